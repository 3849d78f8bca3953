/** One line of `df -P` (block counts in the header's unit) or `df -Pi` (inode counts). */
export interface DfRow {
  filesystem: string;
  mount: string;
  total: number;
  used: number;
  available: number;
  /** The capacity column as df prints it (rounded up); null when df prints `-` (e.g. no inodes). */
  percent: number | null;
}

export interface DfTable {
  /** Bytes per block from the header (`1024-blocks`, `512-blocks`, `1K-blocks`); 1 for inode tables. */
  unit: number;
  rows: DfRow[];
}

/** A line df printed that is neither a header nor a filesystem row. */
export class DfParseError extends Error {
  constructor(
    readonly line: string,
    readonly lineNumber: number,
  ) {
    super(`line ${lineNumber}: ${JSON.stringify(line)}`);
    this.name = 'DfParseError';
  }
}

// Filesystem (may contain spaces) · total · used · available · capacity% · mount point (rest of the line,
// spaces included). Numbers may be `-` for pseudo filesystems.
const ROW = /^(\S.*?)\s+(\d+|-)\s+(\d+|-)\s+(\d+|-)\s+(\d+%|-)\s+(\/.*)$/;
const HEADER = /^Filesystem\s.*Mounted on\s*$/;

/**
 * Parses POSIX `df -P` / `df -Pi` output (GNU coreutils, BusyBox, BSD), one row per operand in operand
 * order. A filesystem name on a line of its own, followed by the numbers on the next (old `df` wrapping
 * long device names), is joined. Anything else unrecognised throws a DfParseError naming the line.
 */
export function parseDf(text: string): DfTable {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  let unit = 1;
  const rows: DfRow[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    if (rows.length === 0 && HEADER.test(line)) {
      unit = blockUnit(line);
      continue;
    }
    let match = ROW.exec(line);
    const next = lines[i + 1];
    if (!match && next !== undefined && /^\s/.test(next) && !/\s/.test(line.trim())) {
      match = ROW.exec(`${line.trim()} ${next.trim()}`);
      if (match) i++;
    }
    if (!match) throw new DfParseError(line, i + 1);
    const [, filesystem, total, used, available, percent, mount] = match;
    rows.push({
      filesystem: filesystem!,
      mount: mount!,
      total: count(total!),
      used: count(used!),
      available: count(available!),
      percent: percent === '-' ? null : Number(percent!.slice(0, -1)),
    });
  }
  return { unit, rows };
}

function blockUnit(header: string): number {
  const match = /\b(\d+)([KMG]?)-blocks\b/.exec(header);
  if (!match) return 1;
  const scale = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[match[2] as '' | 'K' | 'M' | 'G'];
  return Number(match[1]) * scale;
}

function count(text: string): number {
  return text === '-' ? 0 : Number(text);
}

/**
 * The row describing each path: df prints one row per operand, in order; if the count differs (some df
 * merge duplicates), the row whose mount point is the longest prefix of the path.
 */
export function rowsForPaths(rows: readonly DfRow[], paths: readonly string[]): (DfRow | undefined)[] {
  if (rows.length === paths.length) return [...rows];
  return paths.map(
    (p) =>
      rows
        .filter((r) => p === r.mount || p.startsWith(r.mount === '/' ? '/' : `${r.mount}/`))
        .sort((a, b) => b.mount.length - a.mount.length)[0],
  );
}

/** `du -k -d 1` output: the largest directories below `mount` (the mount's own total left out). */
export function largestDirectories(
  text: string,
  mount: string,
  limit: number,
): { path: string; sizeBytes: number }[] {
  const entries: { path: string; sizeBytes: number }[] = [];
  for (const line of text.split('\n')) {
    const match = /^(\d+)\t(.+)$/.exec(line);
    if (!match || match[2] === mount || `${match[2]}/` === mount) continue;
    entries.push({ path: match[2]!, sizeBytes: Number(match[1]) * 1024 });
  }
  return entries.sort((a, b) => b.sizeBytes - a.sizeBytes).slice(0, limit);
}
