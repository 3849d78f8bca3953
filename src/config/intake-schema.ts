import { z } from 'zod';
import { SEVERITIES } from '../findings/finding.js';

/**
 * The `intake:` section of reef.yaml: alerts other systems push to Reef. Today that is Prometheus
 * Alertmanager's webhook (`POST /alertmanager`, see src/intake/). Its bearer token is a secret and comes
 * from the environment (REEF_ALERTMANAGER_TOKEN), never from this file.
 */

/** Bodies above this are refused with 413 unless `maxBodyBytes` says otherwise. */
export const DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024;

const severity = z.enum(SEVERITIES);

const alertmanagerSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .optional()
      .describe(
        'Unset: the endpoint is on exactly when REEF_ALERTMANAGER_TOKEN is set. true: on even without a token (unauthenticated, logged loudly). false: off.',
      ),
    maxBodyBytes: z
      .number()
      .int()
      .min(1024)
      .max(64 * 1024 * 1024)
      .default(DEFAULT_MAX_BODY_BYTES)
      .describe('Largest notification accepted (bytes); a bigger one is refused with 413.'),
    defaultSeverity: severity
      .default('warning')
      .describe('Severity of a firing alert without a `severity` label.'),
    severities: z
      .record(z.string().min(1), severity)
      .default({})
      .describe(
        'Maps `severity` label values to Reef severities, over the built-in map (critical/error/page → critical, warning/info → warning, none → ok). `ok` alerts open no incident.',
      ),
  })
  .describe('Prometheus Alertmanager webhook receiver (POST /alertmanager on REEF_HTTP_PORT).');

export const intakeConfigSchema = z
  .strictObject({
    alertmanager: alertmanagerSchema.default({
      maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
      defaultSeverity: 'warning',
      severities: {},
    }),
  })
  .default({
    alertmanager: { maxBodyBytes: DEFAULT_MAX_BODY_BYTES, defaultSeverity: 'warning', severities: {} },
  })
  .describe('Alerts pushed to Reef by other systems.');

export type IntakeConfig = z.output<typeof intakeConfigSchema>;
export type AlertmanagerIntakeConfig = IntakeConfig['alertmanager'];
