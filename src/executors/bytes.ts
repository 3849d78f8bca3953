import { z } from 'zod';

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** `512`, `100k`, `10M`, `1.5G` (binary units, an optional `B`/`iB`) → bytes; undefined when not a size. */
export function parseSize(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * (UNITS[match[2]!.toLowerCase()] ?? 1));
}

/** A size parameter: a number of bytes or a text like `10M`; parsed to bytes. */
export const sizeParam = z.union([z.number().int().nonnegative(), z.string()]).transform((value, ctx) => {
  const bytes = typeof value === 'number' ? value : parseSize(value);
  if (bytes === undefined) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(value)} is not a size (e.g. 512k, 10M, 1G)` });
    return z.NEVER;
  }
  return bytes;
});

/** `4404019` → `4.2 MiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return `${value >= 10 || i === 0 ? Math.round(value) : value.toFixed(1)} ${units[i]}`;
}
