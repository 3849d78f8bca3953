import type { HostPort } from '../checks/check.js';
import { escapeGlob, isInside, normalisePath } from './validate.js';

/**
 * File operations on a host for `files.*` steps, over the HostPort (SSH or local): GNU `find`,
 * `realpath`, `dd`, `gzip`, `stat`, always as argv, never a shell line built from values. Paths are
 * resolved on the host (symlinks and all) and checked against the runbook's roots as they really are
 * there; `find` runs physical (`-P`, the default: symlinks are never followed) and `-xdev`.
 */

/** A regular file `find` listed. */
export interface FoundFile {
  path: string;
  size: number;
  mtimeMs: number;
  /** Hard links: a file with more than one is not freed by deleting one name, nor safe to truncate. */
  links: number;
  /** find's `%y`: `f` regular file, `l` symlink, `d` directory… (only `f` unless `anyType`). */
  type: string;
}

export interface FileOptions {
  hosts: HostPort;
  host: string;
  timeoutMs: number;
}

/** `find` arguments: global options (`-mindepth`…) go before the tests, or find warns. */
export interface FindSpec {
  /** An absolute path already resolved on the host. */
  start: string;
  globals?: readonly string[];
  tests: readonly string[];
  /** List entries of every type, not only regular files (to know which names are taken). */
  anyType?: boolean;
}

const RECORD = '%y\\t%s\\t%T@\\t%n\\t%p\\0';
const LIST_MAX_BYTES = 32 * 1024 * 1024;
const DELETE_BATCH = 100;

/** The path as the host resolves it (`realpath -e`), or undefined when it does not exist there. */
export async function realpathOn(o: FileOptions, target: string): Promise<string | undefined> {
  const result = await o.hosts.exec(o.host, ['realpath', '-e', '-z', '--', target], {
    timeoutMs: o.timeoutMs,
  });
  if (result.code === 0) return result.stdout.split('\0')[0];
  if (/No such file|Not a directory/.test(result.stderr)) return undefined;
  throw new Error(
    `realpath ${target} on ${o.host} failed: ${excerpt(result.stderr) || `exit ${result.code}`}`,
  );
}

/**
 * Resolves `target` on the host and checks that what it really is (after `..` and symlinks) still lies
 * inside one of the roots, resolved the same way. Undefined when `target` does not exist.
 */
export async function resolveInsideRoots(
  o: FileOptions,
  target: string,
  roots: readonly string[],
): Promise<string | undefined> {
  const resolved = await realpathOn(o, target);
  if (resolved === undefined) return undefined;
  const real: string[] = [];
  for (const root of roots) {
    const r = await realpathOn(o, normalisePath(root));
    if (r !== undefined) real.push(r);
  }
  if (!real.some((root) => isInside(resolved, root))) {
    throw new Error(
      `${target} resolves to ${resolved} on ${o.host}, outside the runbook's roots (${real.join(', ') || 'none exist there'}); a symlink leads out of the roots`,
    );
  }
  return resolved;
}

/** Regular files matching `spec`, with their size, age and link count. */
export async function findFiles(
  o: FileOptions,
  spec: FindSpec,
): Promise<{ files: FoundFile[]; truncated: boolean; warnings: string }> {
  const type = spec.anyType ? [] : ['-type', 'f'];
  const argv = ['find', spec.start, '-xdev', ...(spec.globals ?? []), ...type, ...spec.tests];
  const result = await o.hosts.exec(o.host, [...argv, '-printf', RECORD], {
    timeoutMs: o.timeoutMs,
    maxBytes: LIST_MAX_BYTES,
  });
  if (result.code === null)
    throw new Error(`find under ${spec.start} on ${o.host}: ${excerpt(result.stderr)}`);
  const records = result.stdout.split('\0');
  // The last piece is empty after a complete listing; anything else is a record cut off at maxBytes.
  const tail = records.pop();
  const files = records.flatMap((record) => {
    const [type, size, mtime, links, ...rest] = record.split('\t');
    const path = rest.join('\t');
    if (!path || type === undefined) return [];
    return [{ path, size: Number(size), mtimeMs: Number(mtime) * 1000, links: Number(links), type }];
  });
  // find exits 1 when some directory could not be read, yet lists the rest: a warning, not a failure.
  if (result.code !== 0 && files.length === 0 && result.stderr.trim() !== '') {
    throw new Error(`find under ${spec.start} on ${o.host} failed: ${excerpt(result.stderr)}`);
  }
  return { files, truncated: tail !== '', warnings: excerpt(result.stderr) };
}

/**
 * Deletes exactly `files` (listed by findFiles with `spec`) with `find -delete`: the same physical,
 * `-xdev` walk re-applies `spec`'s tests at deletion time (a file that changed since is left alone) and
 * unlinks relative to the directory it walked, so a directory swapped for a symlink meanwhile leads
 * nowhere. Returns the files deleted, in the order given.
 */
export async function deleteFiles(
  o: FileOptions,
  spec: FindSpec,
  files: readonly FoundFile[],
): Promise<{ deleted: FoundFile[]; errors: string[] }> {
  const gone = new Set<string>();
  const errors: string[] = [];
  for (let i = 0; i < files.length; i += DELETE_BATCH) {
    const batch = files.slice(i, i + DELETE_BATCH);
    const exact = batch.flatMap((f, k) => [...(k === 0 ? [] : ['-o']), '-path', escapeGlob(f.path)]);
    const argv = ['find', spec.start, '-xdev', ...(spec.globals ?? []), '-type', 'f', ...spec.tests];
    // -printf after -delete: only what was really deleted is printed (%p needs no stat of the gone file).
    const result = await o.hosts.exec(o.host, [...argv, '(', ...exact, ')', '-delete', '-printf', '%p\\0'], {
      timeoutMs: o.timeoutMs,
    });
    for (const p of result.stdout.split('\0')) gone.add(p);
    if (result.code !== 0) errors.push(excerpt(result.stderr) || `find exited ${result.code}`);
  }
  // In the order asked (oldest first), not find's walk order.
  return { deleted: files.filter((f) => gone.has(f.path)), errors };
}

/** The bytes deleting these frees: hard-linked files stay on disk under their other names. */
export function freedBy(files: readonly FoundFile[]): number {
  return files.reduce((sum, f) => sum + (f.links === 1 ? f.size : 0), 0);
}

/** Paths for a report: the first `max`, then how many more. */
export function listBounded(paths: readonly string[], max = 50): string {
  const shown = paths.slice(0, max).join('\n');
  return paths.length > max ? `${shown}\n… and ${paths.length - max} more` : shown;
}

export function excerpt(text: string, max = 500): string {
  const trimmed = text.trim();
  return trimmed.length > max ? `${trimmed.slice(0, max)}…` : trimmed;
}

/** `find -mmin +N`: older than `ms` by the host's own clock (the clock its files' times come from). */
export function olderThanTest(ms: number): string[] {
  return ['-mmin', `+${(ms / 60_000).toFixed(3).replace(/\.?0+$/, '')}`];
}

/** `find -size +Nc`: at least `bytes` bytes. */
export function minSizeTest(bytes: number | undefined): string[] {
  return bytes === undefined || bytes <= 0 ? [] : ['-size', `+${bytes - 1}c`];
}
