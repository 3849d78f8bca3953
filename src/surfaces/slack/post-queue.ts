import { errorMessage, ReefError } from '../../errors.js';
import { sleep } from '../../util/concurrency.js';

/**
 * Every call that writes to a channel goes through here: one FIFO per channel, so an incident's
 * message, its updates and its thread replies reach Slack in the order they happened; new messages at
 * most about one a second per channel (Slack's `chat.postMessage` limit); and a call Slack turned away
 * for a passing reason (429 with `Retry-After`, a 5xx, a network error, `ratelimited`) is tried again,
 * after the wait Slack asked for or an exponential backoff, until it goes through. Nothing is dropped:
 * only a permanent error (a wrong channel, a bad token) reaches the caller.
 */

export type CallKind = 'post' | 'update';

export interface PostQueueOptions {
  /** Least time between two new messages in one channel. Default 1000 ms. */
  minIntervalMs?: number;
  /** First backoff after a 5xx or a network error; doubles each time. Default 500 ms. */
  baseBackoffMs?: number;
  /** Longest backoff. Default 30 s. */
  maxBackoffMs?: number;
  /** Told about each retry (for logs and tests). */
  onRetry?: (retry: RetryInfo) => void;
}

export interface RetryInfo {
  channel: string;
  attempt: number;
  waitMs: number;
  reason: string;
}

/** Slack `ok: false` errors that mean "try again later", not "this call is wrong". */
const TRANSIENT_PLATFORM_ERRORS = new Set([
  'ratelimited',
  'rate_limited',
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
  'team_added_to_org',
]);

interface SlackishError {
  code?: unknown;
  retryAfter?: unknown;
  statusCode?: unknown;
  data?: { error?: unknown };
}

/**
 * How long to wait before trying `error`'s call again, or undefined when trying again cannot help.
 * Reads the error classes of `@slack/web-api` by their stable `code` strings.
 */
export function retryDelay(
  error: unknown,
  attempt: number,
  options: Required<Pick<PostQueueOptions, 'baseBackoffMs' | 'maxBackoffMs'>>,
): number | undefined {
  const e = (error ?? {}) as SlackishError;
  const backoff = () => {
    const exp = Math.min(options.maxBackoffMs, options.baseBackoffMs * 2 ** Math.max(0, attempt - 1));
    return Math.round(exp * (0.8 + Math.random() * 0.4));
  };
  switch (e.code) {
    case 'slack_webapi_rate_limited_error':
      // Retry-After is in seconds; Slack means it, so wait at least that long.
      return typeof e.retryAfter === 'number' && e.retryAfter >= 0 ? e.retryAfter * 1000 : backoff();
    case 'slack_webapi_http_error':
      return typeof e.statusCode === 'number' && (e.statusCode >= 500 || e.statusCode === 408)
        ? backoff()
        : undefined;
    case 'slack_webapi_request_error':
      return backoff();
    case 'slack_webapi_platform_error':
      return typeof e.data?.error === 'string' && TRANSIENT_PLATFORM_ERRORS.has(e.data.error)
        ? backoff()
        : undefined;
    default:
      return undefined;
  }
}

export class PostQueue {
  private readonly tails = new Map<string, Promise<unknown>>();
  private readonly lastPost = new Map<string, number>();
  private readonly stopping = new AbortController();
  private readonly options: Required<Omit<PostQueueOptions, 'onRetry'>> & Pick<PostQueueOptions, 'onRetry'>;
  /** Calls tried again, for `/reef status` and the tests. */
  retries = 0;

  constructor(options: PostQueueOptions = {}) {
    this.options = {
      minIntervalMs: options.minIntervalMs ?? 1000,
      baseBackoffMs: options.baseBackoffMs ?? 500,
      maxBackoffMs: options.maxBackoffMs ?? 30_000,
      onRetry: options.onRetry,
    };
  }

  /** Runs `call` after every earlier call of the channel, retrying passing failures; resolves with its result. */
  run<T>(channel: string, kind: CallKind, call: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(channel) ?? Promise.resolve();
    const mine = previous.then(
      () => this.attempt(channel, kind, call),
      () => this.attempt(channel, kind, call),
    );
    const tail = mine.catch(() => {});
    this.tails.set(channel, tail);
    void tail.then(() => {
      if (this.tails.get(channel) === tail) this.tails.delete(channel);
    });
    return mine;
  }

  /** Resolves once every call queued so far has settled. */
  async drain(): Promise<void> {
    await Promise.all([...this.tails.values()]);
  }

  /** Ends every wait now: queued calls that have not gone through fail with `reef_timeout`. */
  stop(): void {
    this.stopping.abort();
  }

  private async attempt<T>(channel: string, kind: CallKind, call: () => Promise<T>): Promise<T> {
    const signal = this.stopping.signal;
    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) throw stopped(channel);
      if (kind === 'post') {
        const wait = (this.lastPost.get(channel) ?? 0) + this.options.minIntervalMs - Date.now();
        if (wait > 0) await sleep(wait, signal);
        if (signal.aborted) throw stopped(channel);
        this.lastPost.set(channel, Date.now());
      }
      try {
        return await call();
      } catch (error) {
        const waitMs = retryDelay(error, attempt, this.options);
        if (waitMs === undefined) throw error;
        this.retries++;
        this.options.onRetry?.({ channel, attempt, waitMs, reason: errorMessage(error) });
        await sleep(waitMs, signal);
      }
    }
  }
}

function stopped(channel: string): ReefError {
  return new ReefError('reef_timeout', `Slack surface stopping: a message for ${channel} was not sent`, {
    hint: 'It stays in the event stream and is delivered by the next bot process.',
  });
}
