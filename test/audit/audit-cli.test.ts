import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/audit-entry.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { runCli } from '../helpers/cli.js';
import { connect, dropPrefix, redisUrl, uniquePrefix } from '../helpers/redis.js';

describe('reef audit (the real bin)', () => {
  let redis: Redis;
  let dir: string;
  let file: string;
  let written: AuditRecord[];
  const prefix = uniquePrefix('auditcli');
  const env = () => ({ REDIS_URL: redisUrl(), REEF_DATA_DIR: path.join(dir, 'data') });

  beforeAll(async () => {
    redis = connect();
    dir = await mkdtemp(path.join(tmpdir(), 'reef-audit-cli-'));
    file = path.join(dir, 'reef.yaml');
    await writeFile(file, `timezone: Europe/Berlin\nredis: { prefix: ${prefix} }\n`);
    const audit = new AuditLog(redis, prefix, { dataDir: env().REEF_DATA_DIR });
    written = [
      await audit.record({
        actor: 'reef',
        action: 'decision',
        incidentId: '3',
        runbookId: 'renew-certificate',
        target: 'certificate/shop',
        why: 'certificate expires in 10 days; runbook mode is auto',
        details: { daysLeft: 10, token: 'xoxb-never-shown' },
      }),
      await audit.record({
        actor: 'cli:alice',
        action: 'dismissal',
        incidentId: '4',
        target: 'disk/nas:/var',
        why: 'planned migration',
      }),
      await audit.record({
        actor: 'reef',
        action: 'verification',
        incidentId: '3',
        runbookId: 'renew-certificate',
        target: 'certificate/shop',
        why: 'certificate now valid for 90 days',
      }),
    ];
  });
  afterAll(async () => {
    await dropPrefix(redis, prefix);
    redis.disconnect();
    await rm(dir, { recursive: true, force: true });
  });

  it('--json prints one document {"entries":[…]} with the entries written through the module', async () => {
    const r = await runCli(['audit', '--json', '-c', file], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { entries: AuditRecord[] };
    expect(Object.keys(doc)).toEqual(['entries']);
    expect(doc.entries).toEqual(written);
    expect(r.stdout).not.toContain('xoxb-never-shown');
  });

  it('--incident and --limit narrow the list', async () => {
    const r = await runCli(['audit', '--json', '--incident', '#3', '-c', file], { env: env() });
    expect(JSON.parse(r.stdout).entries.map((e: AuditRecord) => e.action)).toEqual([
      'decision',
      'verification',
    ]);
    const last = await runCli(['audit', '--json', '--limit', '1', '-c', file], { env: env() });
    expect(JSON.parse(last.stdout).entries.map((e: AuditRecord) => e.id)).toEqual([written[2]!.id]);
  });

  it('prints a table in the configured time zone', async () => {
    const r = await runCli(['audit', '--since', '1h', '-c', file], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^TIME\s+ACTOR\s+ACTION\s+INCIDENT\s+RUNBOOK\s+TARGET\s+WHY$/);
    expect(lines).toHaveLength(4);
    const two = await runCli(['audit', '--limit', '2', '-c', file], { env: env() });
    expect(two.stdout).toMatch(/\(the newest 2 shown; raise --limit or narrow --since to see the rest\)\n$/);
    expect(lines[1]).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d CES?T\s+reef\s+decision\s+#3\s+renew-certificate\s+certificate\/shop\s+certificate expires in 10 days/,
    );
    expect(lines[2]).toMatch(/cli:alice\s+dismissal\s+#4\s+-\s+disk\/nas:\/var\s+planned migration$/);
  });

  it('an empty window says so', async () => {
    const r = await runCli(['audit', '--since', '2999-01-01', '-c', file], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^No audit entries since 2999-01-01 01:00 CET\.$/m);
  });

  it('a bad --since is a usage error that says what to write, before touching Redis', async () => {
    const r = await runCli(['audit', '--since', 'yesterday', '-c', file], {
      env: { ...env(), REDIS_URL: 'redis://127.0.0.1:1' },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: --since "yesterday" is neither a duration nor a date/);
    expect(r.stderr).toMatch(/hint: Use a duration back from now \(90m, 24h, 7d\)/);
    expect(r.stdout).toBe('');
    const bad = await runCli(['audit', '--limit', '0', '-c', file], { env: env() });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--limit "0" is not a whole number/);
  });
});
