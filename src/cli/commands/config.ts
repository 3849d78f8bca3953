import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { planProbes } from '../../checks/registry.js';
import { configJsonSchema, loadConfig } from '../../config/load.js';
import { configReference } from '../../config/reference.js';
import { type CliIo, print } from '../io.js';

/** `reef config validate`: load and validate; exit 0 and a summary, or every problem and exit 2. */
export function validateCommand(options: { config?: string }, io: CliIo): number {
  const loaded = loadConfig(options.config, io.env, io.cwd);
  const probes = planProbes(loaded.config);
  const kinds = new Map<string, number>();
  for (const p of probes) kinds.set(p.check.kind, (kinds.get(p.check.kind) ?? 0) + 1);
  print(
    io.out,
    `${loaded.path}${loaded.embedded ? ' (embedded default)' : ''} is valid: ${probes.length} target${probes.length === 1 ? '' : 's'}` +
      (kinds.size ? ` (${[...kinds].map(([k, n]) => `${n} ${k}`).join(', ')})` : '') +
      `, sweeps "${loaded.config.schedule.checks}" in ${loaded.config.timezone}.`,
  );
  return 0;
}

/** `reef config schema [--out F]`: the JSON Schema for editor completion. */
export function schemaCommand(options: { out?: string }, io: CliIo): number {
  const text = `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
  if (options.out) {
    const file = path.resolve(io.cwd, options.out);
    writeFileSync(file, text);
    print(io.err, `wrote ${file}`);
  } else io.out.write(text);
  return 0;
}

/** `reef config reference [--out F]`: the configuration reference in Markdown (docs/configuration.md). */
export function referenceCommand(options: { out?: string }, io: CliIo): number {
  const text = configReference(configJsonSchema() as Parameters<typeof configReference>[0]);
  if (options.out) {
    const file = path.resolve(io.cwd, options.out);
    writeFileSync(file, text);
    print(io.err, `wrote ${file}`);
  } else io.out.write(text);
  return 0;
}
