import { runDemo } from '../../demo/run-demo.js';
import { ReefError } from '../../errors.js';
import type { CliIo } from '../io.js';

/** `reef demo [--seconds N] [--keep]`: the whole loop on a simulated world (see demo/run-demo.ts). */
export async function demoCommand(
  options: { seconds?: string; keep?: boolean; kubeconfig?: string },
  io: CliIo,
): Promise<number> {
  const seconds = options.seconds === undefined ? 60 : Number(options.seconds);
  if (!Number.isFinite(seconds) || seconds < 10 || seconds > 3600)
    throw new ReefError('reef_usage', `--seconds ${options.seconds}: give a number from 10 to 3600`);
  await runDemo(
    {
      seconds,
      ...(options.keep ? { keep: true } : {}),
      ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
    },
    { out: io.out, err: io.err, env: io.env, cwd: io.cwd, color: io.color },
  );
  return 0;
}
