import path from 'node:path';
import type { Redis } from 'ioredis';
import type { Clock } from '../../adapters/clock.js';
import type { SlackConfig } from '../../config/slack-schema.js';
import { ReefError } from '../../errors.js';
import type { IncidentEvent } from '../../events/incident-event.js';
import type { Incident } from '../../incidents/incident.js';
import type { IncidentStore } from '../../incidents/store.js';
import { approversOf } from '../../operator/actions.js';
import { awaitingSince } from '../../operator/candidates.js';
import type { Catalog } from '../../runbooks/catalog.js';
import type { ChatSurface, Digest } from '../chat-surface.js';
import { escapeMrkdwn, mrkdwn, plain } from './blocks.js';
import { incidentMessage } from './incident-message.js';
import type { StatusContext } from './incident-status.js';
import type { MessageRef, MessageRefs } from './message-refs.js';
import type { SlackPoster } from './slack-poster.js';
import { threadReply } from './thread-reply.js';

export interface SlackSurfaceDeps {
  poster: SlackPoster;
  refs: MessageRefs;
  store: IncidentStore;
  catalog: Catalog;
  redis: Redis;
  prefix: string;
  slack: SlackConfig;
  clock: Clock;
  /** How long a request for approval stays valid (`approvals.expireAfter`). */
  expireAfterMs: number;
}

/**
 * The channel an incident's message goes to: the first route matching its check and severity, else
 * `slack.channels.alerts`. Decided once, when the message is first posted; later updates follow it.
 */
export function channelFor(incident: Pick<Incident, 'check' | 'severity'>, slack: SlackConfig): string {
  const route = slack.channels.routes.find(
    (r) =>
      (r.severity === undefined || r.severity === incident.severity) &&
      (r.check === undefined || r.check === incident.check),
  );
  return route?.channel ?? alertsChannel(slack);
}

function alertsChannel(slack: SlackConfig): string {
  const channel = slack.channels.alerts;
  if (!channel)
    throw new ReefError('reef_config_invalid', 'slack.channels.alerts is not set', {
      hint: 'Set slack.channels.alerts in reef.yaml to the channel id incidents go to (and invite the bot there).',
    });
  return channel;
}

/**
 * Reef on Slack: one Block Kit message per incident in the alerts channel (or its route), updated in
 * place as the incident moves, with the run's story in its thread; the morning digest in the digest
 * channel with the full report attached. Renders from the incident as stored now, so a late or
 * reordered event never rolls a message back.
 */
export class SlackSurface implements ChatSurface {
  readonly name = 'slack';

  constructor(private readonly deps: SlackSurfaceDeps) {}

  async notify(event: IncidentEvent): Promise<void> {
    // A step only adds to the thread; the message itself changes when the run does.
    const known = event.type === 'step' ? await this.deps.refs.get(event.incident.id) : undefined;
    const ref = known ?? (await this.refresh(event.incident));
    const reply = threadReply(event);
    if (reply) await this.deps.poster.post(ref.channel, reply, ref.ts);
  }

  /** Posts or updates the incident's message from its current state; returns where it is. */
  async refresh(seen: Incident): Promise<MessageRef> {
    const { deps } = this;
    return deps.refs.withLock(seen.id, async () => {
      const incident = (await deps.store.get(seen.id)) ?? seen;
      const message = incidentMessage({
        incident,
        catalog: deps.catalog,
        status: await this.statusOf(incident),
      });
      const existing = await deps.refs.get(incident.id);
      if (existing) {
        await deps.poster.update(existing, message);
        return existing;
      }
      const ref = await deps.poster.post(channelFor(incident, deps.slack), message);
      await deps.refs.set(incident.id, ref);
      return ref;
    });
  }

  async say(text: string): Promise<void> {
    await this.deps.poster.post(alertsChannel(this.deps.slack), { text });
  }

  /** The digest as a short Block Kit summary, with the whole Markdown report attached in its thread. */
  async postDigest(digest: Digest): Promise<void> {
    const { slack, poster } = this.deps;
    const channel = slack.channels.digest ?? alertsChannel(slack);
    const ref = await poster.post(channel, {
      text: `${digest.title}: ${digest.summary}`,
      blocks: [
        { type: 'header', text: plain(`:sunrise: ${digest.title}`) },
        { type: 'section', text: mrkdwn(escapeMrkdwn(digest.summary)) },
        {
          type: 'context',
          elements: [
            mrkdwn(
              `Full report attached in the thread${digest.path ? ` · \`${escapeMrkdwn(digest.path)}\`` : ''}`,
            ),
          ],
        },
      ],
    });
    await poster.uploadText(
      ref.channel,
      {
        filename: digest.path ? path.basename(digest.path) : 'brainstorm.md',
        title: digest.title,
        content: digest.markdown,
      },
      ref.ts,
    );
  }

  private async statusOf(incident: Incident): Promise<StatusContext> {
    const { deps } = this;
    const status: StatusContext = { now: deps.clock.now() };
    if (incident.state !== 'awaiting-approval') return status;
    status.expiresAt = new Date(awaitingSince(incident) + deps.expireAfterMs);
    const runbook = incident.proposedRunbookId ? deps.catalog.get(incident.proposedRunbookId) : undefined;
    if (runbook) {
      status.approvalsRequired = runbook.approvalsRequired;
      const given = await approversOf(deps.redis, deps.prefix, incident.id, runbook.id);
      status.approvers = given.approvers;
      status.queued = given.queued;
    }
    return status;
  }
}
