import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { redactionMarker, redactText } from '../secrets/redact.js';
import type { ScanHit } from './secret-scanners.js';

/**
 * Where a would-be memory file that held a secret goes instead of the repository: a private directory
 * outside it (0700, files 0600), with every secret the scanner found replaced by a marker, so a human
 * can see what Reef wanted to remember and fix the source of the leak without the credential spreading.
 */

/** The text with each hit redacted: its exact range, else every occurrence of its value, else its whole line. */
export function redactHits(text: string, hits: readonly ScanHit[]): string {
  const ranges = hits
    .filter((h) => h.start !== undefined && h.end !== undefined && h.end > h.start)
    .map((h) => ({ start: h.start!, end: h.end!, marker: redactionMarker(markerId(h.ruleId)) }))
    .sort((a, b) => b.start - a.start);
  let out = text;
  let floor = Number.POSITIVE_INFINITY;
  for (const r of ranges) {
    // Ranges are applied from the end, so earlier offsets stay valid; an overlapping one is skipped.
    if (r.end > floor) continue;
    out = out.slice(0, r.start) + r.marker + out.slice(r.end);
    floor = r.start;
  }
  for (const hit of hits) {
    if (hit.start !== undefined) continue;
    const marker = redactionMarker(markerId(hit.ruleId));
    if (hit.secret && hit.secret.length >= 4 && out.includes(hit.secret)) {
      out = out.split(hit.secret).join(marker);
    } else if (hit.line > 0) {
      const lines = out.split('\n');
      if (hit.line <= lines.length) lines[hit.line - 1] = `${marker} (line withheld)`;
      out = lines.join('\n');
    }
  }
  return redactText(out);
}

/** Writes the redacted copy and returns its path. */
export async function quarantine(
  dir: string,
  repoPath: string,
  text: string,
  hits: readonly ScanHit[],
  at: Date,
): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const file = path.join(dir, `${stamp}-${repoPath.replace(/[^A-Za-z0-9._-]+/g, '_')}`);
  const header = `<!-- Quarantined by Reef at ${at.toISOString()}: refused from memory (${repoPath}) because it held ${hits.length} secret${hits.length === 1 ? '' : 's'}; they are redacted below. -->\n`;
  await writeFile(file, header + redactHits(text, hits), { mode: 0o600 });
  return file;
}

function markerId(ruleId: string): string {
  return ruleId.replace(/^@secretlint\/secretlint-rule-/, '').replace(/^(reef|trufflehog|gitleaks)\//, '');
}
