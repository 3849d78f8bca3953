import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expandHome, type LoadedConfig } from '../config/load.js';

/** The runbooks shipped with Reef (pod restart, log rotation, disk cleanup, certificate renewal). */
export const BUNDLED_RUNBOOKS_DIR = fileURLToPath(new URL('../../runbooks', import.meta.url));

/**
 * Where a config's runbooks live: `runbooks.dir` relative to the config file's folder, so a config and
 * its runbooks move together; a named folder that is missing is an error when it is read. Without
 * `runbooks.dir`: `runbooks/` beside the config when it exists, else Reef's bundled runbooks.
 */
export function runbooksDirOf(loaded: LoadedConfig, env: NodeJS.ProcessEnv = process.env): string {
  if (loaded.config.runbooks.dir === undefined) {
    // Not named: a runbooks folder beside the config if there is one, else the runbooks Reef ships.
    const beside = path.resolve(path.dirname(loaded.path), 'runbooks');
    return !loaded.embedded && existsSync(beside) ? beside : BUNDLED_RUNBOOKS_DIR;
  }
  const dir = expandHome(loaded.config.runbooks.dir, env);
  if (path.isAbsolute(dir)) return dir;
  if (loaded.embedded) return BUNDLED_RUNBOOKS_DIR;
  return path.resolve(path.dirname(loaded.path), dir);
}
