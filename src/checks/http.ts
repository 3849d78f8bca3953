import type { HttpAttempt } from '../adapters/http-client.js';
import type { HttpTarget } from '../config/schema.js';
import { type Facts, type Finding, makeFinding } from '../findings/finding.js';
import { sleep } from '../util/concurrency.js';
import type { Check } from './check.js';

const MAX_BODY_BYTES = 64 * 1024;

type Failure = { condition: 'unreachable' | 'timeout' | 'bad-status' | 'body-mismatch'; detail: string };

/**
 * HTTP endpoint check. A failure is retried with exponential backoff; one that recovers within the
 * retries is a transient blip (severity ok, the failed attempts kept in facts), one that does not is
 * persistent (critical).
 */
export const httpCheck: Check<HttpTarget> = {
  kind: 'http',
  targets: (config) => config.checks.http,
  nameOf: (target) => target.name,
  async probe(target, { http, clock }) {
    const expected = Array.isArray(target.expectStatus) ? target.expectStatus : [target.expectStatus];
    const bodyPattern = target.bodyMatch === undefined ? undefined : new RegExp(target.bodyMatch);
    const failedAttempts: Facts[] = [];
    const attempts = target.retries + 1;
    let last: { attempt: HttpAttempt; failure: Failure | undefined } | undefined;

    for (let i = 0; i < attempts; i++) {
      if (i > 0) await sleep(target.retryDelayMs * 2 ** (i - 1));
      const attempt = await http.attempt({
        url: target.url,
        method: target.method,
        headers: target.headers,
        timeoutMs: target.timeoutMs,
        maxBodyBytes: MAX_BODY_BYTES,
        insecureTls: target.insecureTls,
      });
      const failure = classify(attempt, expected, bodyPattern);
      last = { attempt, failure };
      if (!failure) break;
      failedAttempts.push({
        attempt: i + 1,
        condition: failure.condition,
        detail: failure.detail,
        latencyMs: attempt.latencyMs,
      });
    }

    const { attempt, failure } = last!;
    const facts: Facts = {
      url: target.url,
      method: target.method,
      latencyMs: attempt.latencyMs,
      attempts: failedAttempts.length + (failure ? 0 : 1),
      expectStatus: expected,
    };
    if (attempt.kind === 'response') facts.status = attempt.status;
    if (failedAttempts.length > 0) facts.failedAttempts = failedAttempts;

    let finding: Omit<Finding, 'fingerprint' | 'observedAt'>;
    if (!failure) {
      finding = {
        check: 'http',
        target: target.name,
        condition: 'ok',
        severity: 'ok',
        summary:
          failedAttempts.length > 0
            ? `transient blip: recovered on attempt ${failedAttempts.length + 1} after ${failedAttempts.map((f) => f.condition).join(', ')}`
            : `HTTP ${(attempt as { status: number }).status} in ${attempt.latencyMs} ms`,
        facts: { ...facts, transient: failedAttempts.length > 0 },
      };
    } else {
      finding = {
        check: 'http',
        target: target.name,
        condition: failure.condition,
        severity: 'critical',
        summary: `${failure.detail} (${attempts} attempt${attempts === 1 ? '' : 's'})`,
        facts,
      };
    }
    return [makeFinding(finding, clock.now())];
  },
};

function classify(
  attempt: HttpAttempt,
  expected: readonly number[],
  body: RegExp | undefined,
): Failure | undefined {
  switch (attempt.kind) {
    case 'timeout':
      return { condition: 'timeout', detail: attempt.message };
    case 'unreachable':
      return { condition: 'unreachable', detail: `unreachable: ${attempt.message}` };
    case 'response':
      if (!expected.includes(attempt.status)) {
        return {
          condition: 'bad-status',
          detail: `HTTP ${attempt.status}, expected ${expected.join(' or ')}`,
        };
      }
      if (body && !body.test(attempt.body)) {
        return {
          condition: 'body-mismatch',
          detail: `HTTP ${attempt.status} but the body does not match /${body.source}/`,
        };
      }
      return undefined;
  }
}
