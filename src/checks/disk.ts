import type { DiskTarget } from '../config/schema.js';
import { errorMessage, ReefError } from '../errors.js';
import { type Facts, type Finding, makeFinding } from '../findings/finding.js';
import type { Check, CheckContext, CommandResult } from './check.js';
import { DfParseError, type DfRow, largestDirectories, parseDf, rowsForPaths } from './parse-df.js';

const DF_MAX_BYTES = 1024 * 1024;
/** `du` on a full disk can walk millions of files: it gets this long (remote `timeout`), then is cut. */
const DU_SECONDS = 10;
const DU_MAX_BYTES = 256 * 1024;
const TOP_DIRECTORIES = 5;

interface Mount {
  row: DfRow;
  unit: number;
  /** The configured paths on this mount, in configuration order. */
  paths: string[];
  inodes: DfRow | undefined;
}

/**
 * Disk usage over SSH or locally: `df -P` and `df -Pi` for the configured paths, one finding per mount
 * (target `host:mount`): `disk-critical` at actPercent, `disk-high` at warnPercent, `inodes-high` at
 * inodeWarnPercent, `ok` otherwise. A critical mount also gets its largest directories (a time-limited
 * `du`), so a diagnosis can say what fills it. Output df cannot be parsed is a check error.
 */
export const diskCheck: Check<DiskTarget> = {
  kind: 'disk',
  targets: (config) => config.checks.disk,
  nameOf: (target) => target.name ?? target.host,
  async probe(target, context) {
    const started = performance.now();
    const options = { timeoutMs: target.timeoutMs, maxBytes: DF_MAX_BYTES };
    const [blocks, inodes] = await Promise.all([
      context.hosts.exec(target.host, ['df', '-P', '--', ...target.paths], options),
      context.hosts.exec(target.host, ['df', '-Pi', '--', ...target.paths], options),
    ]);
    if (blocks.code !== 0) throw dfFailed(target, 'df -P', blocks);
    const blockTable = parse(target, 'df -P', blocks.stdout);
    // A df without inode support (exit status) leaves inodes unknown; garbled output is still an error.
    const inodeRows = inodes.code === 0 ? parse(target, 'df -Pi', inodes.stdout).rows : undefined;
    const mounts = groupByMount(target, blockTable.unit, blockTable.rows, inodeRows);
    const latencyMs = Math.round((performance.now() - started) * 10) / 10;
    const findings = await Promise.all(mounts.map((m) => judge(target, m, context, latencyMs)));
    return findings.flat();
  },
};

function parse(target: DiskTarget, command: string, stdout: string) {
  try {
    const table = parseDf(stdout);
    if (table.rows.length === 0) throw new DfParseError(stdout.split('\n')[0] ?? '', 1);
    return table;
  } catch (error) {
    if (!(error instanceof DfParseError)) throw error;
    throw new ReefError(
      'reef_check_failed',
      `unparsable ${command} output from ${target.host}, ${error.message}`,
      {
        hint: 'Reef reads POSIX `df -P` output (GNU coreutils, BusyBox, BSD); check which df the host runs.',
      },
    );
  }
}

function dfFailed(target: DiskTarget, command: string, result: CommandResult): ReefError {
  const why = result.code === null ? 'did not finish' : `exited ${result.code}`;
  return new ReefError(
    'reef_check_failed',
    `${command} on ${target.host} ${why}: ${result.stderr.trim() || 'no error output'}`,
    { hint: 'Every configured path must exist on the host (checks.disk[].paths).' },
  );
}

function groupByMount(
  target: DiskTarget,
  unit: number,
  rows: readonly DfRow[],
  inodeRows: readonly DfRow[] | undefined,
): Mount[] {
  const byPath = rowsForPaths(rows, target.paths);
  const inodesByPath = inodeRows ? rowsForPaths(inodeRows, target.paths) : [];
  const mounts = new Map<string, Mount>();
  target.paths.forEach((path, i) => {
    const row = byPath[i];
    if (!row) {
      throw new ReefError('reef_check_failed', `df on ${target.host} printed no line for ${path}`);
    }
    const mount = mounts.get(row.mount);
    if (mount) mount.paths.push(path);
    else mounts.set(row.mount, { row, unit, paths: [path], inodes: inodesByPath[i] });
  });
  return [...mounts.values()];
}

async function judge(
  target: DiskTarget,
  mount: Mount,
  { hosts, clock }: CheckContext,
  latencyMs: number,
): Promise<Finding[]> {
  const { row, unit } = mount;
  const usedPercent = row.percent ?? 0;
  const inodesUsedPercent = mount.inodes?.percent ?? null;
  const facts: Facts = {
    host: target.host,
    mount: row.mount,
    path: mount.paths[0]!,
    paths: mount.paths,
    filesystem: row.filesystem,
    usedPercent,
    usedBytes: row.used * unit,
    availableBytes: row.available * unit,
    sizeBytes: row.total * unit,
    inodesUsedPercent,
    warnPercent: target.warnPercent,
    actPercent: target.actPercent,
    inodeWarnPercent: target.inodeWarnPercent,
    latencyMs,
  };
  const base = { check: 'disk' as const, target: `${target.host}:${row.mount}` };
  const usage = `${row.mount} at ${usedPercent}% (${size(row.used * unit)} of ${size(row.total * unit)} used, ${size(row.available * unit)} free)`;
  const findings: Finding[] = [];
  const now = clock.now();
  if (usedPercent >= target.actPercent) {
    const largest = await largestUnder(target, row.mount, hosts);
    const top = largest.directories.map((d) => `${d.path} ${size(d.sizeBytes)}`).join(', ');
    findings.push(
      makeFinding(
        {
          ...base,
          condition: 'disk-critical',
          severity: 'critical',
          summary: `${usage} ≥ ${target.actPercent}%${top ? `; largest: ${top}` : ''}`,
          facts: { ...facts, largestDirectories: largest.directories, largestDirectoriesNote: largest.note },
        },
        now,
      ),
    );
  } else if (usedPercent >= target.warnPercent) {
    findings.push(
      makeFinding(
        {
          ...base,
          condition: 'disk-high',
          severity: 'warning',
          summary: `${usage} ≥ ${target.warnPercent}%`,
          facts,
        },
        now,
      ),
    );
  }
  if (inodesUsedPercent !== null && inodesUsedPercent >= target.inodeWarnPercent) {
    const inodes = mount.inodes!;
    findings.push(
      makeFinding(
        {
          ...base,
          condition: 'inodes-high',
          severity: 'warning',
          summary: `${row.mount} uses ${inodesUsedPercent}% of its inodes (${inodes.used} of ${inodes.total}) ≥ ${target.inodeWarnPercent}%`,
          facts,
        },
        now,
      ),
    );
  }
  if (findings.length === 0) {
    findings.push(makeFinding({ ...base, condition: 'ok', severity: 'ok', summary: usage, facts }, now));
  }
  return findings;
}

/**
 * The biggest directories directly under the mount, one filesystem only (`-x`), cut off after DU_SECONDS
 * on the host. Whatever goes wrong here is a note on the finding, never a failed check.
 */
async function largestUnder(
  target: DiskTarget,
  mount: string,
  hosts: CheckContext['hosts'],
): Promise<{ directories: { path: string; sizeBytes: number }[]; note: string | null }> {
  try {
    const result = await hosts.exec(
      target.host,
      ['timeout', String(DU_SECONDS), 'du', '-x', '-k', '-d', '1', '--', mount],
      { timeoutMs: (DU_SECONDS + 5) * 1000, maxBytes: DU_MAX_BYTES },
    );
    const directories = largestDirectories(result.stdout, mount, TOP_DIRECTORIES);
    let note: string | null = null;
    if (result.code === 124 || result.code === null) note = `du stopped after ${DU_SECONDS} s: partial sizes`;
    else if (result.code !== 0 && directories.length === 0)
      note = `du failed (exit ${result.code}): ${result.stderr.trim().split('\n')[0] ?? ''}`;
    else if (result.code !== 0) note = 'du could not read everything (sizes may be low)';
    return { directories, note };
  } catch (error) {
    return { directories: [], note: `du failed: ${errorMessage(error)}` };
  }
}

function size(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return `${value >= 10 || i === 0 ? Math.round(value) : value.toFixed(1)} ${units[i]}`;
}
