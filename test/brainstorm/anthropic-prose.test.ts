import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { proseWriterFrom } from '../../src/brainstorm/anthropic-prose.js';
import { runBrainstorm } from '../../src/brainstorm/run-brainstorm.js';
import { windowEndingAt } from '../../src/brainstorm/window.js';
import { configSchema } from '../../src/config/schema.js';
import { CostLedger } from '../../src/diagnosis/ledger.js';
import { makeFinding } from '../../src/findings/finding.js';
import { incidentHistory, metricHistory, recordSweep } from '../../src/history/record-sweep.js';
import { IncidentStore } from '../../src/incidents/store.js';
import { NoticeBus } from '../../src/memory/notices.js';
import { type AnthropicApiServer, startAnthropicApiServer } from '../fixtures/anthropic-api-server.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { connect, dropPrefix, uniquePrefix } from '../helpers/redis.js';
import { SECRET_CORPUS } from '../secrets/corpus.js';

const HOUR = 3_600_000;
const END = Date.parse('2026-11-28T03:00:00Z');

describe('the LLM summary through the Anthropic Messages API stand-in', () => {
  let server: AnthropicApiServer;
  let redis: Redis;
  let prefix: string;
  const clock = new FakeClock('2026-11-28T03:00:00Z');
  // A secret in a target name must not reach the LLM (a URL is the likelier place in real life).
  const token = SECRET_CORPUS.find((s) => s.kind === 'github classic token')!.secret;
  const config = configSchema.parse({
    hosts: { nas: { local: true } },
    checks: { disk: [{ host: 'nas', paths: ['/srv'] }] },
  });

  beforeAll(async () => {
    server = await startAnthropicApiServer({ apiKey: 'sk-ant-test-key' });
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    redis = connect();
    prefix = uniquePrefix('bs-llm');
    for (let t = END - 48 * HOUR; t < END; t += HOUR) {
      const used = Math.round(80 - 5 * ((END - t) / (24 * HOUR)));
      const finding = makeFinding(
        {
          check: 'disk',
          target: `nas:/srv ${token}`,
          condition: 'ok',
          severity: 'ok',
          summary: '',
          facts: { host: 'nas', mount: '/srv', usedPercent: used },
        },
        new Date(t),
      );
      await recordSweep(redis, prefix, config, [finding], new Date(t));
    }
  });
  afterEach(async () => {
    await dropPrefix(redis, prefix);
    redis.disconnect();
  });

  const run = () => {
    const prose = proseWriterFrom({
      llm: config.llm,
      timezone: 'UTC',
      redis,
      prefix,
      clock,
      env: { ANTHROPIC_API_KEY: 'sk-ant-test-key', ANTHROPIC_BASE_URL: server.url },
    });
    expect(prose).toBeDefined();
    return runBrainstorm(
      {
        config,
        clock,
        metrics: metricHistory(redis, prefix, config),
        incidents: incidentHistory(redis, prefix, config),
        store: new IncidentStore(redis, prefix),
        audit: new AuditLog(redis, prefix, { clock }),
        redis,
        prefix,
        notices: new NoticeBus(redis, prefix),
        prose: prose!,
      },
      { window: windowEndingAt(new Date(END), 'UTC'), trigger: 'test' },
    );
  };

  it('keeps a summary that cites only computed numbers, sent redacted, and books its cost', async () => {
    server.reply({
      kind: 'tool',
      input: { summary: 'One disk needs attention: it is at 80 % and fills in 4 days; nothing else moved.' },
      usage: { input_tokens: 1200, output_tokens: 40 },
    });
    const result = await run();
    expect(result.report.prose).toBe(
      'One disk needs attention: it is at 80 % and fills in 4 days; nothing else moved.',
    );
    expect(result.markdown).toContain('## Summary\n\nOne disk needs attention');
    expect(result.digest.summary.split('\n')[0]).toBe(result.report.prose);
    const [request] = server.requests;
    expect(request!.body!.tools![0]!.name).toBe('write_summary');
    const sent = JSON.parse(String(request!.body!.messages[0]!.content).replace('Report data:\n', ''));
    expect(sent.disks[0]).toMatchObject({ usedPercent: 80, daysToFull: 4 });
    expect(request!.raw).not.toContain(token);
    const ledger = new CostLedger(redis, prefix, { timezone: 'UTC', prices: config.llm.prices });
    expect(await ledger.forIncident('brainstorm')).toMatchObject({
      calls: 1,
      inputTokens: 1200,
      outputTokens: 40,
    });
  });

  it('drops a summary that invents a number, and says so in the report', async () => {
    server.reply({ kind: 'tool', input: { summary: 'About 12 disks are filling up; the worst in 2 days.' } });
    const result = await run();
    expect(result.report.prose).toBeUndefined();
    expect(result.report.notes).toContain(
      'The LLM summary was dropped: it cited 12, 2, which the computed numbers do not contain.',
    );
    expect(result.markdown).not.toContain('About 12 disks');
  });

  it('an API failure leaves the code’s summary in place', async () => {
    server.reply({ kind: 'error', status: 401, type: 'authentication_error', message: 'invalid x-api-key' });
    const result = await run();
    expect(result.report.prose).toBeUndefined();
    expect(result.report.notes.join('\n')).toMatch(
      /The LLM summary was not written \(the Anthropic API refused the key \(401/,
    );
    expect(result.markdown).toContain('- Last 24 h: 0 incidents opened');
  });
});
