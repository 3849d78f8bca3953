import { z } from 'zod';
import { CHECK_KINDS } from '../findings/finding.js';
import { parseDuration } from '../util/duration.js';

/**
 * The `slack:` section of reef.yaml: where incidents and the digest go, and who may approve. Tokens
 * never live here (SLACK_BOT_TOKEN, SLACK_APP_TOKEN, SLACK_SIGNING_SECRET come from the environment);
 * without SLACK_BOT_TOKEN this whole section is ignored and the console surface is used.
 */

const channel = z
  .string()
  .regex(
    /^(?:[CGD][A-Z0-9]{2,}|#[a-z0-9][a-z0-9._-]{0,79})$/,
    'must be a channel id (C0123ABCD, from the channel details in Slack) or a public channel name such as "#reef-alerts"',
  );

const userId = z
  .string()
  .regex(
    /^[UW][A-Z0-9]{2,}$/,
    'must be a Slack user id such as U0123ABCD (profile → ⋮ → Copy member ID), not a display name',
  );

const groupId = z
  .string()
  .regex(
    /^S[A-Z0-9]{2,}$/,
    'must be a Slack user-group id such as S0123ABCD (not the @handle; `usergroups.list` shows ids)',
  );

const duration = z.string().refine((text) => parseDuration(text) !== undefined, {
  message: 'invalid duration (use e.g. 30s, 15m, 1h, 2d)',
});

const route = z
  .strictObject({
    severity: z
      .enum(['warning', 'critical'])
      .optional()
      .describe('Matches incidents of exactly this severity (when they open).'),
    check: z.enum(CHECK_KINDS).optional().describe('Matches incidents of this check.'),
    channel,
  })
  .refine((r) => r.severity !== undefined || r.check !== undefined, {
    message: 'a route needs `severity` or `check` (or both); without either, set channels.alerts instead',
  })
  .describe('Incidents matching every given field go to `channel` instead of channels.alerts.');

export const slackConfigSchema = z
  .strictObject({
    channels: z
      .strictObject({
        alerts: channel
          .optional()
          .describe('Where incident messages go. Required when SLACK_BOT_TOKEN is set.'),
        digest: channel
          .optional()
          .describe('Where the morning Brainstorm digest goes. Default: the alerts channel.'),
        routes: z.array(route).default([]).describe('First match wins; no match → alerts.'),
      })
      .default({ routes: [] }),
    approvers: z
      .strictObject({
        users: z.array(userId).default([]),
        groups: z.array(groupId).default([]).describe('Members are resolved through usergroups.users.list.'),
      })
      .default({ users: [], groups: [] })
      .describe(
        'Who may press Approve, Alternative, Dismiss and Silence, and run /reef silence|pause|resume.',
      ),
    groupCacheTtl: duration
      .default('1m')
      .describe('How long user-group members are cached before usergroups.users.list is asked again.'),
  })
  .default({
    channels: { routes: [] },
    approvers: { users: [], groups: [] },
    groupCacheTtl: '1m',
  })
  .describe('The Slack surface (used when SLACK_BOT_TOKEN is set).');

export type SlackConfig = z.output<typeof slackConfigSchema>;
export type SlackRoute = SlackConfig['channels']['routes'][number];
