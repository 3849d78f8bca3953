import { errorMessage } from '../errors.js';
import { sleep } from '../util/concurrency.js';
import { isKubeApiError } from './kube-errors.js';

export type WatchEvent<T> =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: T; resourceVersion: string }
  | { type: 'BOOKMARK'; resourceVersion: string };

/** `connecting` until the first stream opens; `error` when retrying cannot help without an operator (RBAC, credentials). */
export type WatchState = 'connecting' | 'connected' | 'reconnecting' | 'error';

export interface WatchStatus {
  state: WatchState;
  /** Why the stream is not connected (absent while connected). */
  error?: string;
  /** The backoff before the next attempt, when reconnecting. */
  retryInMs?: number;
}

/** The two calls a resumable watch is built from, supplied by the adapter for one kind of object. */
export interface WatchSource<T> {
  /** Every object (paginated), and the resourceVersion of that snapshot, to watch from. */
  list(signal: AbortSignal): Promise<{ items: T[]; resourceVersion: string }>;
  /**
   * One watch stream from `resourceVersion`. Calls `onOpen` once the server accepted it, then `onEvent` per
   * event; settles when the stream ends: resolves when the server closed it cleanly, rejects on an error
   * (a KubeApiError with failure `gone` for 410, as an HTTP status or an ERROR event).
   */
  stream(
    resourceVersion: string,
    handlers: { onOpen(): void; onEvent(event: WatchEvent<T>): void },
    signal: AbortSignal,
  ): Promise<void>;
}

export interface WatchHandlers<T> {
  /** A full list: at the start and again after 410 Gone, when events may have been missed. */
  onSync(items: T[], resourceVersion: string): Promise<void>;
  onEvent(event: WatchEvent<T>): Promise<void>;
  onStatus(status: WatchStatus): void;
  /** A handler threw; the watch goes on (the next event or sync corrects the picture). */
  onHandlerError?(error: unknown): void;
}

export interface ResumableWatchOptions {
  signal: AbortSignal;
  backoff?: { initialMs: number; maxMs: number };
  /** A stream that ends sooner than this without an event counts as a failure, so a flapping server is backed off. */
  minHealthyMs?: number;
}

/**
 * List, then watch from the list's resourceVersion; on a dropped stream resume from the last version
 * seen; on 410 Gone (history compacted) list again; on failures retry with capped, jittered exponential
 * backoff. Events and syncs reach the handlers one at a time, in order. Runs until `signal` aborts.
 */
export async function runResumableWatch<T>(
  source: WatchSource<T>,
  handlers: WatchHandlers<T>,
  options: ResumableWatchOptions,
): Promise<void> {
  const { signal } = options;
  const backoff = options.backoff ?? { initialMs: 500, maxMs: 30_000 };
  const minHealthyMs = options.minHealthyMs ?? 1000;
  let queue: Promise<void> = Promise.resolve();
  const enqueue = (work: () => Promise<void>) => {
    queue = queue.then(work).catch((error: unknown) => handlers.onHandlerError?.(error));
    return queue;
  };
  let resourceVersion: string | undefined;
  let failures = 0;
  let connected = false;
  handlers.onStatus({ state: 'connecting' });

  while (!signal.aborted) {
    const startedAt = Date.now();
    let events = 0;
    const listed = resourceVersion === undefined;
    try {
      let from = resourceVersion;
      if (from === undefined) {
        const list = await source.list(signal);
        await enqueue(() => handlers.onSync(list.items, list.resourceVersion));
        from = resourceVersion = list.resourceVersion;
      }
      await source.stream(
        from,
        {
          onOpen: () => {
            if (!connected) handlers.onStatus({ state: 'connected' });
            connected = true;
          },
          onEvent: (event) => {
            events++;
            resourceVersion = event.resourceVersion || resourceVersion;
            void enqueue(() => handlers.onEvent(event));
          },
        },
        signal,
      );
      // A clean end (the server's timeoutSeconds): resume at once, unless the server keeps hanging up.
      if (events > 0 || Date.now() - startedAt >= minHealthyMs) {
        failures = 0;
        continue;
      }
      failures++;
    } catch (error) {
      if (signal.aborted) break;
      if (isKubeApiError(error) && error.failure === 'gone') {
        // Missed events cannot be replayed: take a fresh list, which the sync handler reconciles. A
        // server that calls even a fresh list's version gone is backed off like any other failure.
        const fresh = listed && events === 0;
        resourceVersion = undefined;
        connected = false;
        failures = fresh ? failures + 1 : 0;
        const retryInMs = fresh ? delay(failures, backoff) : 0;
        handlers.onStatus({ state: 'reconnecting', error: error.message, retryInMs });
        await sleep(retryInMs, signal);
        continue;
      }
      failures++;
      connected = false;
      const retryInMs = delay(failures, backoff);
      const needsOperator =
        isKubeApiError(error) && ['forbidden', 'unauthorized', 'config'].includes(error.failure);
      handlers.onStatus({
        state: needsOperator ? 'error' : 'reconnecting',
        error: errorMessage(error),
        retryInMs,
      });
      await sleep(retryInMs, signal);
      continue;
    }
    await sleep(delay(failures, backoff), signal);
  }
  await queue;
}

function delay(failures: number, backoff: { initialMs: number; maxMs: number }): number {
  const capped = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.max(0, failures - 1));
  // Jitter, so many Reefs (or many namespaces) do not hammer a recovering API server in lockstep.
  return Math.round(capped * (0.5 + Math.random() * 0.5));
}
