import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { MemoryConfig } from '../config/memory-schema.js';

/**
 * The scanners that guard memory commits, in the order Reef prefers them: TruffleHog (`trufflehog
 * filesystem --json`), gitleaks (`gitleaks dir --report-format json`), or the embedded scanner
 * (secretlint's recommended preset plus Reef's rules). Each scans the files of one commit, staged in a
 * private directory outside the repository, and reports hits by repository path. A hit never carries a
 * secret further than the quarantine's redaction needs.
 */

export interface StagedFile {
  /** Path inside the memory repository, `/`-separated. */
  path: string;
  content: string;
}

export interface ScanHit {
  /** Repository path of the file. */
  file: string;
  ruleId: string;
  /** What was found, never the value. */
  message: string;
  /** 1-based; 0 when the scanner did not say. */
  line: number;
  /** Character range in the file, when the scanner gives one (the embedded scanner does). */
  start?: number;
  end?: number;
  /** The secret as the scanner reported it (to redact it from the quarantined copy; never logged). */
  secret?: string;
}

export type ScannerName = 'trufflehog' | 'gitleaks' | 'embedded';

export interface SecretScanner {
  readonly name: ScannerName;
  /** Scans the staged files (written under `dir` at their repository paths). */
  scan(dir: string, files: readonly StagedFile[]): Promise<ScanHit[]>;
}

/** The scanner a setting and a PATH give: `auto` prefers TruffleHog, then gitleaks, then embedded. */
export function chooseScanner(
  setting: MemoryConfig['scanner'],
  env: NodeJS.ProcessEnv = process.env,
): { scanner: SecretScanner; note?: string } {
  const found = (name: string) => onPath(name, env);
  const trufflehog = found('trufflehog');
  const gitleaks = found('gitleaks');
  if ((setting === 'auto' || setting === 'trufflehog') && trufflehog)
    return { scanner: trufflehogScanner(trufflehog, env) };
  if ((setting === 'auto' || setting === 'gitleaks') && gitleaks)
    return { scanner: gitleaksScanner(gitleaks, env) };
  if (setting === 'trufflehog' || setting === 'gitleaks')
    return {
      scanner: embeddedScanner,
      note: `memory.scanner is ${setting} but \`${setting}\` is not on PATH; the embedded scanner guards the commit instead`,
    };
  return { scanner: embeddedScanner };
}

export const embeddedScanner: SecretScanner = {
  name: 'embedded',
  async scan(_dir, files) {
    // Loaded on first use: secretlint's rules take a while to import, and most processes never commit.
    const { scanForSecrets } = await import('../secrets/scan.js');
    const hits: ScanHit[] = [];
    for (const file of files) {
      for (const h of await scanForSecrets(file.content, { fileName: file.path })) {
        hits.push({
          file: file.path,
          ruleId: h.ruleId,
          message: h.message,
          line: h.line,
          start: h.start,
          end: h.end,
        });
      }
    }
    return hits;
  },
};

/**
 * TruffleHog v3: `trufflehog filesystem . --json --no-verification --no-update --fail`. Results are
 * newline-delimited JSON on stdout (`SourceMetadata.Data.Filesystem.{file,line}`, `DetectorName`,
 * `Raw`); `--fail` makes the exit code 183 when there are results, 0 when none. Verification is off:
 * the guard must never send a secret to its issuer to test it.
 */
export function trufflehogScanner(binary: string, env: NodeJS.ProcessEnv): SecretScanner {
  return {
    name: 'trufflehog',
    async scan(dir) {
      const run = await execute(
        binary,
        ['filesystem', '.', '--json', '--no-verification', '--no-update', '--fail'],
        dir,
        env,
      );
      if (run.code !== 0 && run.code !== 183) throw scannerFailed('trufflehog', run);
      const hits: ScanHit[] = [];
      for (const line of run.stdout.split('\n')) {
        if (!line.trim().startsWith('{')) continue;
        const result = JSON.parse(line) as TrufflehogResult;
        const source = result.SourceMetadata?.Data?.Filesystem;
        if (!source?.file) continue;
        const detector = result.DetectorName ?? 'unknown detector';
        hits.push({
          file: repoPath(dir, source.file),
          ruleId: `trufflehog/${detector}`,
          message: `${detector} secret${result.Verified ? ' (verified live)' : ''} found by TruffleHog`,
          line: source.line ?? 0,
          ...(result.Raw ? { secret: result.Raw } : {}),
        });
      }
      if (run.code === 183 && hits.length === 0)
        throw scannerFailed('trufflehog', run, 'reported results it did not print');
      return hits;
    },
  };
}

interface TrufflehogResult {
  SourceMetadata?: { Data?: { Filesystem?: { file?: string; line?: number } } };
  DetectorName?: string;
  Verified?: boolean;
  Raw?: string;
}

/**
 * gitleaks v8.19+: `gitleaks dir . --report-format json --report-path <file> --exit-code 0`. The report
 * is a JSON array of findings (`RuleID`, `File`, `StartLine`, `Secret`, `Description`); with
 * `--exit-code 0` any other exit code means gitleaks itself failed.
 */
export function gitleaksScanner(binary: string, env: NodeJS.ProcessEnv): SecretScanner {
  return {
    name: 'gitleaks',
    async scan(dir) {
      const reportDir = await mkdtemp(path.join(tmpdir(), 'reef-gitleaks-'));
      const report = path.join(reportDir, 'report.json');
      try {
        const run = await execute(
          binary,
          ['dir', '.', '--report-format', 'json', '--report-path', report, '--exit-code', '0', '--no-banner'],
          dir,
          env,
        );
        if (run.code !== 0) throw scannerFailed('gitleaks', run);
        const findings = JSON.parse(await readFile(report, 'utf8')) as GitleaksFinding[];
        if (!Array.isArray(findings))
          throw scannerFailed('gitleaks', run, 'wrote a report that is not a JSON array');
        return findings.map((f) => ({
          file: repoPath(dir, f.File ?? ''),
          ruleId: `gitleaks/${f.RuleID ?? 'unknown'}`,
          message: `${f.Description ?? f.RuleID ?? 'a secret'} found by gitleaks`,
          line: f.StartLine ?? 0,
          ...(f.Secret ? { secret: f.Secret } : {}),
        }));
      } finally {
        await rm(reportDir, { recursive: true, force: true });
      }
    },
  };
}

interface GitleaksFinding {
  RuleID?: string;
  Description?: string;
  File?: string;
  StartLine?: number;
  Secret?: string;
}

interface Execution {
  code: number | null;
  stdout: string;
  stderr: string;
}

function execute(
  binary: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<Execution> {
  return new Promise((resolve) => {
    execFile(
      binary,
      args,
      { cwd, env, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr: stderr || (error && code === null ? error.message : '') });
      },
    );
  });
}

function scannerFailed(name: string, run: Execution, why?: string): Error {
  const detail =
    why ?? `exited with ${run.code ?? 'a signal'}: ${run.stderr.trim().split('\n').slice(-2).join(' / ')}`;
  return new Error(`${name} ${detail}`);
}

/** A scanner's file path (relative to the staging dir, `./`-prefixed or absolute) as a repository path. */
function repoPath(dir: string, file: string): string {
  return path.relative(dir, path.resolve(dir, file)).split(path.sep).join('/');
}

function onPath(command: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}
