import { stripVTControlCharacters } from 'node:util';
import pc from 'picocolors';
import type { Facts, FactValue, Severity } from '../findings/finding.js';

export type Colors = Pick<typeof pc, 'red' | 'yellow' | 'green' | 'dim' | 'bold' | 'cyan'>;

export function colors(enabled: boolean): Colors {
  return pc.createColors(enabled);
}

export function severityLabel(severity: Severity, c: Colors): string {
  switch (severity) {
    case 'critical':
      return c.red(c.bold('CRITICAL'));
    case 'warning':
      return c.yellow(c.bold('WARNING'));
    case 'ok':
      return c.green('OK');
  }
}

/** Facts as `key=value` pairs, skipping bulky ones, for one console line. */
export function factsLine(facts: Facts, keys?: readonly string[], max = 6): string {
  const entries = Object.entries(facts).filter(([k, v]) => (keys ? keys.includes(k) : isScalar(v)));
  return entries
    .slice(0, max)
    .map(([k, v]) => `${k}=${formatFact(v)}`)
    .join(' ');
}

function isScalar(value: FactValue): boolean {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

export function formatFact(value: FactValue): string {
  if (typeof value === 'string') return /\s/.test(value) ? JSON.stringify(value) : value;
  return JSON.stringify(value);
}

/** A plain text table; `widths` adapt to content, the last column is never padded. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const visible = (s: string) => stripVTControlCharacters(s).length;
  const widths = header.map((h, i) => Math.max(visible(h), ...rows.map((r) => visible(r[i] ?? ''))));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) =>
        i === cells.length - 1 ? cell : cell + ' '.repeat(Math.max(0, (widths[i] ?? 0) - visible(cell))),
      )
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
