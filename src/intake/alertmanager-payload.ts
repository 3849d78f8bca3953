import { z } from 'zod';
import { formatPath } from '../config/load.js';

/**
 * Prometheus Alertmanager's webhook body (`webhook_config`, payload version 4), validated before anything
 * is ingested: a body that does not have this shape is refused whole, with every problem by path. Objects
 * are not strict, because Alertmanager (and compatible senders) add fields over time; only the fields
 * Reef reads must be present and typed.
 */

const stringMap = z.record(z.string(), z.string());

export const alertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: stringMap,
  annotations: stringMap.default({}),
  startsAt: z.string().min(1),
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().min(1).optional(),
});

export const alertmanagerPayloadSchema = z.object({
  version: z.string().optional(),
  groupKey: z.string().optional(),
  truncatedAlerts: z.number().int().nonnegative().optional(),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string().optional(),
  groupLabels: stringMap.optional(),
  commonLabels: stringMap.optional(),
  commonAnnotations: stringMap.optional(),
  externalURL: z.string().optional(),
  alerts: z.array(alertSchema),
});

export type AlertmanagerAlert = z.output<typeof alertSchema>;
export type AlertmanagerPayload = z.output<typeof alertmanagerPayloadSchema>;

/** The payload version Reef was written against; another one is accepted when its shape matches. */
export const WEBHOOK_VERSION = '4';

/** The parsed payload, or every problem with its path (`alerts[2].labels.alertname: …`). */
export function parseAlertmanagerPayload(
  body: unknown,
): { ok: true; payload: AlertmanagerPayload } | { ok: false; problems: string[] } {
  const parsed = alertmanagerPayloadSchema.safeParse(body);
  if (parsed.success) return { ok: true, payload: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((issue) => {
      const at = formatPath(issue.path);
      return `${at || '(body)'}: ${issue.message}`;
    }),
  };
}
