import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { AlertmanagerIntakeConfig } from '../config/intake-schema.js';
import { errorMessage, ReefError } from '../errors.js';
import { processMetrics } from '../metrics/process-metrics.js';
import type { AlertIngestResult } from './alert-ingest.js';
import { type AlertmanagerPayload, parseAlertmanagerPayload } from './alertmanager-payload.js';
import { bearerMatches } from './bearer.js';
import { readBoundedBody } from './read-body.js';

export const ALERTMANAGER_PATH = '/alertmanager';

/** A route on Reef's HTTP server: returns true when it answered the request. */
export type HttpRoute = (req: IncomingMessage, res: ServerResponse) => boolean;

export interface AlertmanagerRouteOptions {
  /** REEF_ALERTMANAGER_TOKEN; when set, every request must carry `Authorization: Bearer <token>`. */
  token: string | undefined;
  settings: AlertmanagerIntakeConfig;
  ingest(payload: AlertmanagerPayload): Promise<AlertIngestResult>;
  log: Pick<Logger, 'warn' | 'error'>;
}

/** On when a token is set, unless turned off; on without one only when the config says so. */
export function intakeEnabled(
  settings: Pick<AlertmanagerIntakeConfig, 'enabled'>,
  token: string | undefined,
): boolean {
  return settings.enabled ?? token !== undefined;
}

/**
 * `POST /alertmanager`: Alertmanager's webhook receiver. Checks come before any work, in this order:
 * method, enabled, bearer token, JSON content type, body size, JSON syntax, payload shape. Any refusal
 * ingests nothing and says what to change. A 503 (Redis unreachable) makes Alertmanager retry, so a
 * notification is never lost to a Redis hiccup; its alerts are keyed by fingerprint, so a retry that
 * half-succeeded before only updates.
 */
export function alertmanagerRoute(options: AlertmanagerRouteOptions): HttpRoute {
  const enabled = intakeEnabled(options.settings, options.token);
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://reef').pathname;
    if (path !== ALERTMANAGER_PATH) return false;
    handle(req, res, options, enabled).catch((error: unknown) => {
      options.log.error({ err: errorMessage(error) }, 'alertmanager intake failed');
      if (!res.headersSent) reply(res, 500, { error: 'internal error', hint: "See Reef's log." });
    });
    return true;
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  options: AlertmanagerRouteOptions,
  enabled: boolean,
): Promise<void> {
  const refuse = (status: number, error: ReefError, headers: Record<string, string> = {}) => {
    req.resume();
    reply(res, status, { error: error.message, hint: error.hint, details: error.details }, headers);
  };
  if (req.method !== 'POST') {
    refuse(
      405,
      usage(`${req.method} ${ALERTMANAGER_PATH} is not supported`, 'Alertmanager POSTs its webhook here.'),
      {
        allow: 'POST',
      },
    );
    return;
  }
  if (!enabled) {
    refuse(
      404,
      usage(
        'The Alertmanager intake is off',
        "Set REEF_ALERTMANAGER_TOKEN (and the same token in Alertmanager's http_config.authorization), or set intake.alertmanager.enabled: true in reef.yaml for an unauthenticated endpoint.",
      ),
    );
    return;
  }
  if (options.token !== undefined && !bearerMatches(req.headers.authorization, options.token)) {
    refuse(
      401,
      usage(
        req.headers.authorization
          ? 'The bearer token does not match'
          : 'An Authorization: Bearer header is required',
        'Give Alertmanager the value of REEF_ALERTMANAGER_TOKEN: webhook_configs[].http_config.authorization.credentials (or credentials_file).',
      ),
      { 'www-authenticate': 'Bearer realm="reef"' },
    );
    return;
  }
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    refuse(
      415,
      usage(
        `Content-Type must be application/json (got ${type || 'none'})`,
        'Send the Alertmanager webhook JSON body as Alertmanager does.',
      ),
    );
    return;
  }
  const max = options.settings.maxBodyBytes;
  const tooLarge = () =>
    usage(
      `The body is larger than ${max} bytes`,
      "Lower max_alerts in Alertmanager's webhook_config, or raise intake.alertmanager.maxBodyBytes in reef.yaml.",
    );
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) {
    refuse(413, tooLarge(), { connection: 'close' });
    return;
  }
  const read = await readBoundedBody(req, max);
  if (!read.ok) {
    if (read.reason === 'too-large') refuse(413, tooLarge(), { connection: 'close' });
    else res.destroy();
    return;
  }
  let body: unknown;
  try {
    body = JSON.parse(read.body.toString('utf8'));
  } catch (error) {
    refuse(
      400,
      usage(
        `The body is not valid JSON (${errorMessage(error)})`,
        "Send Alertmanager's webhook body unchanged.",
      ),
    );
    return;
  }
  const parsed = parseAlertmanagerPayload(body);
  if (!parsed.ok) {
    refuse(
      400,
      new ReefError(
        'reef_usage',
        'The body is not an Alertmanager webhook notification (version 4); nothing was ingested',
        {
          hint: 'Point an Alertmanager webhook_config at this URL; each alert needs status, labels and startsAt.',
          details: parsed.problems.slice(0, 20),
        },
      ),
    );
    return;
  }
  let result: AlertIngestResult;
  try {
    result = await options.ingest(parsed.payload);
  } catch (error) {
    options.log.error(
      { err: errorMessage(error) },
      'alertmanager notification not ingested; Alertmanager will retry',
    );
    reply(res, 503, {
      error: `Reef could not store the alerts (${errorMessage(error)})`,
      hint: 'Is Redis reachable from Reef? Alertmanager retries this notification.',
    });
    return;
  }
  if (result.skipped.length > 0 || result.truncatedAlerts > 0)
    options.log.warn(
      { skipped: result.skipped, truncated: result.truncatedAlerts },
      'some alerts were not ingested',
    );
  reply(res, 200, { status: 'ok', ...result });
}

function usage(message: string, hint: string): ReefError {
  return new ReefError('reef_usage', message, { hint });
}

function reply(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  processMetrics().alertRequests.inc({ code: String(status) });
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(`${JSON.stringify(body)}\n`);
}
