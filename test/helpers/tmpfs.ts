import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/**
 * Whether this process can mount a tmpfs (root, and a container that allows it); the reason if not.
 * Tests that need real filesystem levels skip with that reason printed, rather than fail.
 */
export async function tmpfsUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'not running as root (mounting a tmpfs needs it)';
  const probe = await mkdtemp(path.join(tmpdir(), 'reef-tmpfs-probe-'));
  try {
    await execFileAsync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe]);
    await execFileAsync('umount', [probe]);
    return undefined;
  } catch (error) {
    return `cannot mount a tmpfs here: ${(error as Error).message.split('\n')[0]}`;
  } finally {
    await rm(probe, { recursive: true, force: true });
  }
}
