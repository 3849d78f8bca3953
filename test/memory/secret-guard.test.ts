import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { memorySchema } from '../../src/config/memory-schema.js';
import { MemoryRepo } from '../../src/memory/memory-repo.js';
import { NoticeBus } from '../../src/memory/notices.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { connect, dropPrefix, uniquePrefix } from '../helpers/redis.js';
import { fake, LOOK_ALIKES, SECRET_CORPUS } from '../secrets/corpus.js';

const STAND_INS = fileURLToPath(new URL('../fixtures/secret-scanners', import.meta.url));
const gitOut = (repo: string, args: string[]) =>
  execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' });

/** A would-be incident note with the secret where Reef would have put it: in a log sample or a fact. */
function noteWith(kind: string, line: string): string {
  return `# Incident #9: errorLogs/api error-spike — resolved\n\n## What Reef saw\n\n52 matches in the last 1h.\n\n## Samples\n\n\`\`\`\n${line}\n\`\`\`\n\n(${kind})\n`;
}

describe('the memory commit guard', () => {
  let redis: Redis;
  let prefix: string;
  let dir: string;
  let audit: AuditLog;
  let warnings: string[];
  const clock = new FakeClock('2026-11-28T03:00:00Z');

  beforeEach(() => {
    redis = connect();
    prefix = uniquePrefix('guard');
    dir = mkdtempSync(path.join(tmpdir(), 'reef-guard-'));
    audit = new AuditLog(redis, prefix, { clock });
    warnings = [];
  });
  afterEach(async () => {
    await dropPrefix(redis, prefix);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  const repo = (env: NodeJS.ProcessEnv = process.env, scanner: 'auto' | 'trufflehog' | 'gitleaks' = 'auto') =>
    new MemoryRepo({
      dir: path.join(dir, 'memory'),
      quarantineDir: path.join(dir, 'quarantine'),
      config: memorySchema.parse({ scanner }),
      clock,
      env,
      audit,
      notices: new NoticeBus(redis, prefix),
      lock: { redis, key: `${prefix}:memory:lock` },
      warn: (m) => void warnings.push(m),
    });

  describe('with the embedded scanner (no trufflehog or gitleaks on PATH)', () => {
    it('blocks and quarantines every one of the 54 seeded kinds of secret, and commits the clean files', async () => {
      expect(SECRET_CORPUS.length).toBeGreaterThanOrEqual(30);
      const memory = repo();
      const repoDir = path.join(dir, 'memory');
      for (const [i, sample] of SECRET_CORPUS.entries()) {
        const file = `incidents/2026-11-28-${100 + i}-sample.md`;
        const result = await memory.commit(
          [{ path: file, content: noteWith(sample.kind, sample.line) }],
          `note ${i}`,
        );
        expect(result.status, sample.kind).toBe('blocked');
        if (result.status !== 'blocked') continue;
        expect(result.scanner).toBe('embedded');
        expect(result.hits.length, sample.kind).toBeGreaterThan(0);
        expect(existsSync(path.join(repoDir, file)), sample.kind).toBe(false);
        expect(result.quarantined).toHaveLength(1);
        const quarantined = readFileSync(result.quarantined[0]!, 'utf8');
        expect(quarantined, sample.kind).not.toContain(sample.secret);
        expect(quarantined).toContain('[REDACTED:');
        expect(quarantined).toContain('52 matches in the last 1h.');
        expect(statSync(result.quarantined[0]!).mode & 0o777).toBe(0o600);
        expect(path.relative(repoDir, result.quarantined[0]!).startsWith('..')).toBe(true);
      }
      // Clean notes (look-alikes of secrets included) go in.
      const clean = await memory.commit(
        [
          {
            path: 'incidents/2026-11-28-1-clean.md',
            content: noteWith('look-alikes', LOOK_ALIKES.join('\n')),
          },
        ],
        'clean note',
      );
      expect(clean.status).toBe('committed');
      // Nothing with a secret was ever committed: the whole history has none of them.
      const history = gitOut(repoDir, ['log', '-p', '--all']);
      for (const sample of SECRET_CORPUS) expect(history, sample.kind).not.toContain(sample.secret);
      expect(gitOut(repoDir, ['log', '--format=%s'])).toBe('clean note\nReef memory\n');
      expect(readdirSync(path.join(dir, 'quarantine'))).toHaveLength(SECRET_CORPUS.length);

      const entries = await audit.read({ limit: 1000 });
      expect(entries.filter((e) => e.action === 'memory-commit-blocked')).toHaveLength(SECRET_CORPUS.length);
      for (const e of entries)
        for (const s of SECRET_CORPUS) expect(JSON.stringify(e)).not.toContain(s.secret);
      const alerts = (await redis.xrange(`${prefix}:notices`, '-', '+')).map(([, f]) => JSON.parse(f[1]!));
      expect(alerts).toHaveLength(SECRET_CORPUS.length);
      expect(alerts[0]).toMatchObject({
        kind: 'alert',
        text: expect.stringMatching(/^Memory commit blocked: incidents\//),
      });
    }, 60_000);

    it('a hit blocks the whole commit: the clean files of it are held back, nothing is written', async () => {
      const aws = SECRET_CORPUS.find((s) => s.kind === 'aws access key id')!;
      const result = await repo().commit(
        [
          { path: 'incidents/a.md', content: 'fine\n' },
          { path: 'incidents/b.md', content: noteWith(aws.kind, aws.line) },
        ],
        'two notes',
      );
      expect(result).toMatchObject({ status: 'blocked', heldBack: ['incidents/a.md'] });
      expect(existsSync(path.join(dir, 'memory', 'incidents'))).toBe(false);
    });
  });

  describe('with TruffleHog or gitleaks on PATH (stand-ins speaking their JSON formats)', () => {
    let bin: string;
    let log: string;
    const awsKey = `AKIA${fake('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16, 'guard-aws')}`;
    const content = `# Incident #3: pods/apps/web-1 CrashLoopBackOff — escalated\n\nenv dump:\nAWS_ACCESS_KEY_ID=${awsKey}\nregion=eu-west-1\n`;

    beforeAll(() => {
      bin = mkdtempSync(path.join(tmpdir(), 'reef-scanners-'));
      for (const tool of ['trufflehog', 'gitleaks']) {
        mkdirSync(path.join(bin, tool));
        symlinkSync(path.join(STAND_INS, tool), path.join(bin, tool, tool));
      }
      mkdirSync(path.join(bin, 'both'));
      for (const tool of ['trufflehog', 'gitleaks'])
        symlinkSync(path.join(STAND_INS, tool), path.join(bin, 'both', tool));
    });
    afterAll(() => rmSync(bin, { recursive: true, force: true }));
    beforeEach(() => {
      log = path.join(dir, 'scanner-calls.jsonl');
    });

    const env = (only: 'trufflehog' | 'gitleaks' | 'both', extra: NodeJS.ProcessEnv = {}) => ({
      ...process.env,
      PATH: `${path.join(bin, only)}${path.delimiter}${process.env.PATH}`,
      REEF_SCANNER_STANDIN_LOG: log,
      ...extra,
    });
    const calls = () =>
      readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { tool: string; cwd: string; args: string[] });

    it('prefers TruffleHog: filesystem scan of a private copy, --json, no verification; a hit blocks and quarantines', async () => {
      const result = await repo(env('both')).commit([{ path: 'incidents/3.md', content }], 'note');
      expect(result).toMatchObject({
        status: 'blocked',
        scanner: 'trufflehog',
        hits: [
          {
            file: 'incidents/3.md',
            ruleId: 'trufflehog/AWS',
            line: 4,
            message: 'AWS secret found by TruffleHog',
          },
        ],
      });
      const [call, ...rest] = calls();
      expect(rest).toEqual([]);
      expect(call!.tool).toBe('trufflehog');
      expect(call!.args).toEqual(['filesystem', '.', '--json', '--no-verification', '--no-update', '--fail']);
      expect(path.relative(path.join(dir, 'memory'), call!.cwd).startsWith('..')).toBe(true);
      expect(existsSync(call!.cwd)).toBe(false);
      if (result.status !== 'blocked') return;
      const quarantined = readFileSync(result.quarantined[0]!, 'utf8');
      expect(quarantined).not.toContain(awsKey);
      expect(quarantined).toContain('AWS_ACCESS_KEY_ID=[REDACTED:AWS]');
      expect(quarantined).toContain('region=eu-west-1');
      const [entry] = await audit.read({ limit: 10 });
      expect(entry).toMatchObject({
        action: 'memory-commit-blocked',
        actor: 'reef',
        target: 'memory/incidents/3.md',
        details: { scanner: 'trufflehog', findings: [{ rule: 'trufflehog/AWS', line: 4 }] },
      });
    });

    it('uses gitleaks when only gitleaks is on PATH, reading its JSON report', async () => {
      const result = await repo(env('gitleaks')).commit([{ path: 'incidents/3.md', content }], 'note');
      expect(result).toMatchObject({
        status: 'blocked',
        scanner: 'gitleaks',
        hits: [{ file: 'incidents/3.md', ruleId: 'gitleaks/aws-access-token', line: 4 }],
      });
      const [call] = calls();
      expect(call!.tool).toBe('gitleaks');
      expect(call!.args.slice(0, 2)).toEqual(['dir', '.']);
      expect(call!.args).toContain('--report-format');
      expect(call!.args[call!.args.indexOf('--exit-code') + 1]).toBe('0');
      if (result.status !== 'blocked') return;
      expect(readFileSync(result.quarantined[0]!, 'utf8')).not.toContain(awsKey);
    });

    it('commits a clean file after TruffleHog found nothing', async () => {
      const result = await repo(env('both')).commit(
        [{ path: 'incidents/4.md', content: '# fine\n\nno secrets\n' }],
        'clean',
      );
      expect(result).toMatchObject({ status: 'committed', scanner: 'trufflehog' });
      expect(calls().map((c) => c.tool)).toEqual(['trufflehog']);
    });

    it('a scanner that crashes never lets a commit through unscanned: the embedded scanner takes over', async () => {
      const memory = repo(env('both', { REEF_SCANNER_STANDIN_FAIL: 'trufflehog' }));
      const result = await memory.commit([{ path: 'incidents/3.md', content }], 'note');
      expect(result).toMatchObject({ status: 'blocked', scanner: 'embedded' });
      expect(warnings.join('\n')).toMatch(
        /trufflehog exited with 2: trufflehog: fatal error: simulated crash/,
      );
      expect(existsSync(path.join(dir, 'memory', 'incidents', '3.md'))).toBe(false);
    });

    it('memory.scanner: gitleaks without gitleaks on PATH guards with the embedded scanner and says so', async () => {
      const result = await repo(env('trufflehog'), 'gitleaks').commit(
        [{ path: 'incidents/3.md', content }],
        'note',
      );
      expect(result).toMatchObject({ status: 'blocked', scanner: 'embedded' });
      expect(warnings[0]).toContain('memory.scanner is gitleaks but `gitleaks` is not on PATH');
    });
  });
});
