import { createHash } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { verifySlackRequest } from '@slack/bolt';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { errorMessage } from '../../errors.js';

export const SLACK_EVENTS_PATH = '/slack/events';
/** Slack's replay window is five minutes either way; a signature is remembered a little longer. */
const SEEN_TTL_S = 11 * 60;
const BODY_LIMIT = 1024 * 1024;

export interface SlackHttpOptions {
  signingSecret: string;
  redis: Redis;
  prefix: string;
  log: Pick<Logger, 'warn'>;
  /** Bolt's HTTPReceiver request listener (it verifies again, parses, and acks). */
  receiver: RequestListener;
}

/**
 * `POST /slack/events` on Reef's own HTTP server (beside `/healthz`, on REEF_HTTP_PORT). Before Bolt
 * sees a request, it must be signed with the signing secret (HMAC-SHA256 over `v0:timestamp:body`),
 * at most five minutes old, and never seen before: a captured request replayed within the window is
 * refused too, across every bot process (the signature is remembered in Redis). Returns false for
 * other paths, so the caller can answer them.
 */
export function slackHttpHandler(
  options: SlackHttpOptions,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://reef').pathname;
    if (path !== SLACK_EVENTS_PATH) return false;
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST', 'content-type': 'text/plain' });
      res.end('Slack posts events here; nothing to GET.\n');
      return true;
    }
    void guard(req, res, options).catch((error: unknown) => {
      options.log.warn({ err: errorMessage(error) }, 'Slack request failed');
      if (!res.headersSent) {
        res.writeHead(500);
        res.end();
      }
    });
    return true;
  };
}

async function guard(req: IncomingMessage, res: ServerResponse, o: SlackHttpOptions): Promise<void> {
  const body = await readBody(req);
  if (body === undefined) {
    res.writeHead(413);
    res.end();
    return;
  }
  const signature = header(req, 'x-slack-signature');
  const timestamp = Number(header(req, 'x-slack-request-timestamp'));
  const refuse = (why: string) => {
    o.log.warn({ why, remote: req.socket.remoteAddress }, 'Slack request refused');
    res.writeHead(401, { 'content-type': 'text/plain' });
    res.end('unauthorised\n');
  };
  try {
    verifySlackRequest({
      signingSecret: o.signingSecret,
      body: body.toString('utf8'),
      headers: { 'x-slack-signature': signature ?? '', 'x-slack-request-timestamp': timestamp },
    });
  } catch (error) {
    refuse(`${errorMessage(error)} (check SLACK_SIGNING_SECRET against the app's Basic Information page)`);
    return;
  }
  const seen = `${o.prefix}:slack:seen:${createHash('sha256')
    .update(signature ?? '')
    .digest('hex')
    .slice(0, 32)}`;
  if ((await o.redis.set(seen, String(timestamp), 'EX', SEEN_TTL_S, 'NX')) !== 'OK') {
    refuse('replayed request: this exact signed request was already handled');
    return;
  }
  // Bolt reads a body already buffered on `rawBody`, and verifies it again (cheap) before it acks.
  Object.assign(req, { rawBody: body });
  o.receiver(req, res);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? undefined : value;
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > BODY_LIMIT) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
