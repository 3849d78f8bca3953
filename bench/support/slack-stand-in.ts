import type { PostedMessage } from '../../test/fixtures/slack-api-server.js';
import { forkStandIn } from './forked-stand-in.js';

/** One request the load generator sends: a form body, signed in the child just before it goes. */
export interface SlackRequest {
  kind: 'click' | 'command';
  body: string;
  responseUrl: string;
}

export interface FiredRequest {
  kind: SlackRequest['kind'];
  status: number;
  /** From just before the request was written until its response (the ack) arrived. */
  ms: number;
}

export type SlackCommand =
  | { id: number; op: 'messages' }
  | { id: number; op: 'fire'; url: string; requests: SlackRequest[]; concurrent: boolean }
  | { id: number; op: 'answered'; urls: string[]; timeoutMs: number };

export type SlackReply =
  | { kind: 'ready'; url: string }
  | { kind: 'failed'; error: string }
  | {
      kind: 'done';
      id: number;
      messages?: PostedMessage[];
      fired?: FiredRequest[];
      answeredMs?: number;
      error?: string;
    };

export interface SlackStandIn {
  /** The Web API base URL (`…/api/`). */
  apiUrl: string;
  /** For response URLs: `${origin}/respond/<anything>`. */
  origin: string;
  pid: number;
  messages(): Promise<PostedMessage[]>;
  /** Sends the requests (all at once, or one after another), each signed as it goes; their ack times. */
  fire(url: string, requests: SlackRequest[], concurrent?: boolean): Promise<FiredRequest[]>;
  /** Resolves when every response URL got an answer: milliseconds waited. */
  answered(urls: string[], timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

const CHILD = new URL('./slack-stand-in-process.ts', import.meta.url);

/**
 * The Slack stand-in of `test/fixtures` plus the load generator, in a child process, so neither the
 * Web API answers nor the sending and signing of 50 requests are charged to the Reef process measured.
 */
export async function startSlackStandIn(startTimeoutMs = 30_000): Promise<SlackStandIn> {
  const child = await forkStandIn<SlackCommand, Extract<SlackReply, { kind: 'done' }>>(
    CHILD,
    {},
    startTimeoutMs,
  );
  const checked = async (command: Parameters<typeof child.ask>[0]) => {
    const reply = await child.ask(command);
    if (reply.error) throw new Error(reply.error);
    return reply;
  };
  return {
    apiUrl: `${child.url}/api/`,
    origin: child.url,
    pid: child.pid,
    messages: async () => (await checked({ op: 'messages' })).messages ?? [],
    fire: async (url, requests, concurrent = true) =>
      (await checked({ op: 'fire', url, requests, concurrent })).fired ?? [],
    answered: async (urls, timeoutMs = 30_000) =>
      (await checked({ op: 'answered', urls, timeoutMs })).answeredMs ?? 0,
    stop: child.stop,
  };
}
