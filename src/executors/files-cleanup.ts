import { z } from 'zod';
import { formatDuration, parseDuration } from '../util/duration.js';
import { formatBytes, sizeParam } from './bytes.js';
import type { StepExecutor } from './executor.js';
import {
  deleteFiles,
  excerpt,
  type FileOptions,
  type FindSpec,
  findFiles,
  freedBy,
  listBounded,
  minSizeTest,
  olderThanTest,
  resolveInsideRoots,
} from './host-files.js';
import { absolutePath, configName, displayArgv, nameGlob, requireInsideRoots } from './validate.js';

const TIMEOUT_MS = 10 * 60_000;

const schema = z.strictObject({
  host: configName,
  /** Where to look; must lie inside the runbook's roots, also once resolved on the host. */
  root: absolutePath,
  /** File-name globs: `*.tmp`, `*.gz`, `backup-*.tar*`. */
  patterns: z.array(nameGlob).min(1).max(20),
  olderThan: z.string().refine((t) => (parseDuration(t) ?? 0) >= 60_000, {
    message: 'must be a duration of at least 1m, e.g. 2d or 12h',
  }),
  minSize: sizeParam.optional(),
  /** At most this many files per run, the oldest first. */
  maxFiles: z.number().int().min(1).max(100_000).default(1000),
});

export type CleanupParams = z.output<typeof schema>;

/**
 * `files.cleanup`: deletes regular files under a root that match name globs and are older than an age
 * (and at least `minSize`), oldest first, at most `maxFiles`; reports the bytes freed and the files.
 * Never a directory, never through a symlink (find walks physically), never onto another filesystem
 * (`-xdev`), never outside the runbook's roots (checked again on the host after `realpath`).
 */
export const filesCleanupExecutor: StepExecutor<CleanupParams> = {
  type: 'files.cleanup',
  mutates: true,
  schema,
  check(params, runbook) {
    requireInsideRoots(params.root, runbook.roots, 'root');
  },
  describe(params) {
    const spec = findSpec(params, params.root);
    const argv = ['find', spec.start, '-xdev', '-type', 'f', ...spec.tests, '-delete'];
    return `on ${params.host}: ${displayArgv(argv)} (oldest first, at most ${params.maxFiles} files; realpath checked against the roots first)`;
  },
  async execute(params, context) {
    requireInsideRoots(params.root, context.runbook.roots, 'root');
    const o: FileOptions = { hosts: context.hosts, host: params.host, timeoutMs: TIMEOUT_MS };
    const start = await resolveInsideRoots(o, params.root, context.runbook.roots);
    if (start === undefined) {
      return {
        ok: true,
        summary: `${params.root} does not exist on ${params.host}: nothing to clean`,
        data: { bytesFreed: 0, deleted: 0, files: [] },
      };
    }
    const spec = findSpec(params, start);
    const listed = await findFiles(o, spec);
    const chosen = [...listed.files].sort((a, b) => a.mtimeMs - b.mtimeMs).slice(0, params.maxFiles);
    const left = listed.files.length - chosen.length;
    context.log(`deleting ${chosen.length} files under ${start} on ${params.host}`);
    const { deleted, errors } = await deleteFiles(o, spec, chosen);
    const bytesFreed = freedBy(deleted);
    const paths = deleted.map((f) => f.path);
    const notes = [
      ...(left > 0
        ? [`${left} more matching files left for the next run (maxFiles ${params.maxFiles})`]
        : []),
      ...(listed.truncated ? ['the listing was cut short (too many files): run again for the rest'] : []),
      ...(deleted.length < chosen.length ? [`${chosen.length - deleted.length} files not deleted`] : []),
    ];
    const age = formatDuration(parseDuration(params.olderThan)!);
    return {
      ok: errors.length === 0,
      summary: `freed ${formatBytes(bytesFreed)} under ${start} on ${params.host}: ${deleted.length} files (${params.patterns.join(', ')}) older than ${age}${notes.length ? `; ${notes.join('; ')}` : ''}`,
      output: [
        listBounded(paths),
        ...errors.map((e) => `error: ${e}`),
        ...(listed.warnings ? [`find: ${excerpt(listed.warnings)}`] : []),
      ]
        .filter(Boolean)
        .join('\n'),
      data: {
        bytesFreed,
        deleted: deleted.length,
        files: paths.slice(0, 100),
        ...(left > 0 ? { remaining: left } : {}),
      },
    };
  },
};

function findSpec(params: CleanupParams, start: string): FindSpec {
  const names = params.patterns.flatMap((p, i) => [...(i === 0 ? [] : ['-o']), '-name', p]);
  return {
    start,
    tests: [
      '(',
      ...names,
      ')',
      ...olderThanTest(parseDuration(params.olderThan)!),
      ...minSizeTest(params.minSize),
    ],
  };
}
