import path from 'node:path';
import { z } from 'zod';
import { errorMessage } from '../errors.js';
import { formatBytes, sizeParam } from './bytes.js';
import type { RunbookBounds, StepExecutor, StepResult } from './executor.js';
import {
  deleteFiles,
  excerpt,
  type FileOptions,
  type FindSpec,
  type FoundFile,
  findFiles,
  freedBy,
  minSizeTest,
  resolveInsideRoots,
} from './host-files.js';
import { absoluteGlob, configName, escapeGlob, requireInsideRoots, splitGlob } from './validate.js';

const TIMEOUT_MS = 10 * 60_000;

/**
 * Copy, then truncate, back to back on the host (no round trip between them: fewer lines lost). `dd`
 * rather than `cp`: it can refuse symlinks on both sides (`nofollow`) and create the copy exclusively
 * (`conv=excl`), so a planted `<log>.<timestamp>` symlink cannot make Reef overwrite its target; the
 * copy is created private (umask 077). Only the positional arguments carry data.
 */
const COPY_TRUNCATE = [
  'umask 077',
  // The name must be free (conv=excl refuses it anyway); checked here so a failed copy below is
  // known to be Reef's own partial file, which is then removed rather than left filling the disk.
  '{ [ -e "$2" ] || [ -L "$2" ]; } && exit 12',
  // Room for the whole copy first: on a nearly full disk a copy that cannot finish must not start.
  'need=$(stat -L -c %s -- "$1") || exit 10',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a JS template
  'have=$(df -Pk -- "${2%/*}" | awk \'NR==2 {print $4 * 1024}\') || exit 10',
  '[ "$have" -gt "$need" ] || { echo "need $need bytes, $have available" >&2; exit 13; }',
  'dd "if=$1" iflag=nofollow "of=$2" oflag=nofollow conv=excl bs=1M status=none || { rm -f -- "$2"; exit 10; }',
  'dd if=/dev/null "of=$1" oflag=nofollow conv=nocreat status=none || exit 11',
  'stat -c %s -- "$2"',
].join('\n');

/** `<log>.20261128-030000`, `-1`… for a second rotation within the second, `.gz` once compressed. */
const COPY_SUFFIX = /\.(\d{8}-\d{6})(?:-(\d+))?(\.gz)?$/;

const schema = z.strictObject({
  host: configName,
  /** Live logs: absolute paths or globs (`/var/log/app/*.log`) whose directory lies inside the roots. */
  paths: z.array(absoluteGlob).min(1).max(20),
  compress: z.boolean().default(true),
  /** Rotated copies to keep per log (Reef's own `<log>.<timestamp>[.gz]` ones), newest first. */
  keep: z.number().int().min(1).max(100).default(5),
  /** Rotate only logs at least this big (default: any non-empty one). */
  minSize: sizeParam.optional(),
});

export type RotateLogsParams = z.output<typeof schema>;

interface Rotated {
  path: string;
  copy: string;
  copiedBytes: number;
  storedBytes: number;
}

/**
 * `files.rotateLogs`: rotates live logs with copytruncate semantics (the writer keeps its open file):
 * copy to `<log>.<UTC timestamp>`, truncate the log, gzip the copy, then delete this log's rotated copies
 * beyond `keep`. Reports the bytes freed. Only regular, singly-linked files inside the runbook's roots
 * (checked on the host after `realpath`); symlinks are never followed.
 */
export const filesRotateLogsExecutor: StepExecutor<RotateLogsParams> = {
  type: 'files.rotateLogs',
  mutates: true,
  schema,
  check: checkRoots,
  describe(params) {
    const size = params.minSize ? ` of at least ${formatBytes(params.minSize)}` : '';
    return (
      `on ${params.host}: for each regular file${size} matching ${params.paths.join(', ')}: ` +
      `copy to <file>.<UTC timestamp> (dd, nofollow, exclusive), truncate <file>` +
      `${params.compress ? ', gzip the copy' : ''}; keep the newest ${params.keep} copies, delete older ones`
    );
  },
  async execute(params, context) {
    checkRoots(params, context.runbook);
    const o: FileOptions = { hosts: context.hosts, host: params.host, timeoutMs: TIMEOUT_MS };
    const logs = new Map<string, FoundFile>();
    const skipped: string[] = [];
    for (const pattern of params.paths) {
      const { base, rest } = splitGlob(pattern);
      const start = await resolveInsideRoots(o, base, context.runbook.roots);
      if (start === undefined) {
        skipped.push(`${base}: no such directory`);
        continue;
      }
      const depth = String(rest.length);
      const spec: FindSpec = {
        start,
        globals: ['-mindepth', depth, '-maxdepth', depth],
        tests: [
          '-path',
          `${escapeGlob(start)}/${rest.join('/')}`,
          ...minSizeTest(Math.max(1, params.minSize ?? 1)),
        ],
      };
      for (const file of (await findFiles(o, spec)).files) {
        const name = path.posix.basename(file.path);
        // Rotated copies (ours and compressed ones) match broad globs too; they are not live logs.
        if (COPY_SUFFIX.test(name) || name.endsWith('.gz')) continue;
        if (file.links > 1)
          skipped.push(
            `${file.path}: has ${file.links} hard links; truncating it would change the other names`,
          );
        else logs.set(file.path, file);
      }
    }
    const rotated: Rotated[] = [];
    const deletedCopies: FoundFile[] = [];
    const errors: string[] = [];
    for (const log of logs.values()) {
      try {
        const { copies, taken } = await rotatedCopies(o, log.path);
        const copy = await rotate(
          o,
          log.path,
          freshName(log.path, taken, context.clock.now()),
          params.compress,
        );
        rotated.push(copy);
        context.log(`rotated ${log.path} (${formatBytes(copy.copiedBytes)})`);
        // The copy just made counts towards `keep` and is never the one deleted, whatever the clocks say.
        const old = [...copies]
          .sort((a, b) => copyOrder(b.path).localeCompare(copyOrder(a.path)))
          .slice(params.keep - 1);
        if (old.length > 0) {
          const removed = await deleteFiles(o, copiesSpec(log.path), old);
          deletedCopies.push(...removed.deleted);
          errors.push(...removed.errors);
        }
      } catch (error) {
        errors.push(`${log.path}: ${errorMessage(error)}`);
      }
    }
    return report(params.host, rotated, deletedCopies, skipped, errors);
  },
};

function checkRoots(params: RotateLogsParams, runbook: RunbookBounds): void {
  for (const p of params.paths) requireInsideRoots(splitGlob(p).base, runbook.roots, `the directory of ${p}`);
}

async function rotate(o: FileOptions, log: string, copy: string, compress: boolean): Promise<Rotated> {
  const result = await o.hosts.exec(o.host, ['sh', '-c', COPY_TRUNCATE, 'reef', log, copy], {
    timeoutMs: o.timeoutMs,
  });
  if (result.code !== 0) {
    const step =
      result.code === 10
        ? 'copy (the partial copy was removed; the log is untouched)'
        : result.code === 11
          ? 'truncate (the copy was kept)'
          : result.code === 12
            ? `copy (${copy} appeared meanwhile; the log is untouched)`
            : result.code === 13
              ? 'copy (not enough free space for it; the log is untouched: free space first, e.g. with files.cleanup)'
              : 'rotation';
    throw new Error(`${step} failed: ${excerpt(result.stderr) || `exit ${result.code}`}`);
  }
  const copiedBytes = Number(result.stdout.trim());
  if (!compress) return { path: log, copy, copiedBytes, storedBytes: copiedBytes };
  // gzip refuses symlinks and never overwrites an existing .gz.
  const zipped = await o.hosts.exec(o.host, ['gzip', '--', copy], { timeoutMs: o.timeoutMs });
  if (zipped.code !== 0)
    throw new Error(
      `gzip ${copy} failed (the log was truncated; the copy is kept): ${excerpt(zipped.stderr)}`,
    );
  const stat = await o.hosts.exec(o.host, ['stat', '-c', '%s', '--', `${copy}.gz`], {
    timeoutMs: o.timeoutMs,
  });
  return { path: log, copy: `${copy}.gz`, copiedBytes, storedBytes: Number(stat.stdout.trim()) || 0 };
}

/**
 * This log's rotated copies made by Reef (regular files), and every name of that form already taken by
 * anything, symlinks included, so a new copy never lands on one.
 */
async function rotatedCopies(
  o: FileOptions,
  log: string,
): Promise<{ copies: FoundFile[]; taken: Set<string> }> {
  const name = path.posix.basename(log);
  const { files } = await findFiles(o, { ...copiesSpec(log), anyType: true });
  const ours = files.filter((f) => {
    const rest = path.posix.basename(f.path).slice(name.length);
    return rest.replace(COPY_SUFFIX, '') === '' && COPY_SUFFIX.test(rest);
  });
  return {
    copies: ours.filter((f) => f.type === 'f'),
    taken: new Set(ours.map((f) => f.path.replace(/\.gz$/, ''))),
  };
}

function copiesSpec(log: string): FindSpec {
  return {
    start: path.posix.dirname(log),
    globals: ['-mindepth', '1', '-maxdepth', '1'],
    tests: ['-name', `${escapeGlob(path.posix.basename(log))}.*`],
  };
}

/** `<log>.<timestamp>`, with `-N` when a copy of that second exists already. */
function freshName(log: string, taken: ReadonlySet<string>, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  let candidate = `${log}.${stamp}`;
  for (let n = 1; taken.has(candidate); n++) candidate = `${log}.${stamp}-${n}`;
  return candidate;
}

/** Sort key: timestamp, then the sequence number, zero-padded, so text order is age order. */
function copyOrder(file: string): string {
  const m = COPY_SUFFIX.exec(file);
  return m ? `${m[1]}-${(m[2] ?? '0').padStart(6, '0')}` : '';
}

function report(
  host: string,
  rotated: readonly Rotated[],
  deletedCopies: readonly FoundFile[],
  skipped: readonly string[],
  errors: readonly string[],
): StepResult {
  const saved = rotated.reduce((sum, r) => sum + Math.max(0, r.copiedBytes - r.storedBytes), 0);
  const bytesFreed = saved + freedBy(deletedCopies);
  const old = deletedCopies.length ? `, ${deletedCopies.length} old copies deleted` : '';
  return {
    ok: errors.length === 0,
    summary: `rotated ${rotated.length} logs on ${host}, freed ${formatBytes(bytesFreed)}${old}${errors.length ? `; ${errors.length} failed` : ''}`,
    output: [
      ...rotated.map(
        (r) => `${r.path} → ${r.copy} (${formatBytes(r.copiedBytes)} → ${formatBytes(r.storedBytes)})`,
      ),
      ...deletedCopies.map((f) => `deleted ${f.path}`),
      ...skipped.map((s) => `skipped ${s}`),
      ...errors.map((e) => `error: ${e}`),
    ]
      .slice(0, 200)
      .join('\n'),
    data: {
      bytesFreed,
      rotated: rotated.map((r) => ({ ...r })),
      deletedCopies: deletedCopies.map((f) => f.path),
      ...(skipped.length ? { skipped } : {}),
    },
  };
}
