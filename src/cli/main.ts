import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { loadDotEnv } from '../env.js';
import { isReefError } from '../errors.js';
import { checkCommand } from './commands/check.js';
import { schemaCommand, validateCommand } from './commands/config.js';
import { approveCommand, dismissCommand, incidentsCommand } from './commands/incidents.js';
import { runCommand } from './commands/run.js';
import { runbooksLintCommand, runbooksListCommand } from './commands/runbooks.js';
import { statusCommand } from './commands/status.js';
import { type CliIo, printError, processIo } from './io.js';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

const CONFIG_HELP = 'config file (default: $REEF_CONFIG, ./reef.yaml, then the embedded example)';

/** Builds the `reef` command line; every action resolves to an exit code. */
export function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('reef')
    .description('Reef keeps infrastructure healthy: checks on a schedule, incidents, runbooks, approvals.')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run `reef --help` for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out.write(s), writeErr: (s) => io.err.write(s) });

  const action =
    <A extends unknown[]>(fn: (...args: A) => Promise<number> | number) =>
    async (...args: A) => {
      setExit(await fn(...args));
    };

  program
    .command('start')
    .description('run everything in one process: scheduler, worker, console surface, health endpoint')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(action((o: { config?: string }) => runCommand(['scheduler', 'worker', 'bot'], o, io)));
  program
    .command('scheduler')
    .description('declare the schedules and keep them (scale-out role)')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(action((o: { config?: string }) => runCommand(['scheduler'], o, io)));
  program
    .command('worker')
    .description('process sweeps from the queue (run several to scale out)')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(action((o: { config?: string }) => runCommand(['worker'], o, io)));
  program
    .command('bot')
    .description('deliver incident events to the chat surface')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(action((o: { config?: string }) => runCommand(['bot'], o, io)));

  program
    .command('check [target]')
    .description('probe now: with --once from this shell (no Redis needed), else through the running Reef')
    .option('--once', 'run every configured check here and now, without Redis')
    .option('--json', 'print exactly one JSON document')
    .option('-c, --config <file>', CONFIG_HELP)
    .option('--timeout <seconds>', 'how long to wait for the running Reef', '120')
    .action(
      action((target: string | undefined, o: Parameters<typeof checkCommand>[1]) =>
        checkCommand(target, o, io),
      ),
    );

  program
    .command('status')
    .description('schedules and next runs, workers, last sweep, open incidents')
    .option('--json', 'machine-readable output')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(action((o: { json?: boolean; config?: string }) => statusCommand(o, io)));
  program
    .command('incidents')
    .description('list open incidents (or --all recent ones)')
    .option('--all', 'include resolved and dismissed incidents')
    .option('--limit <n>', 'with --all, how many', '50')
    .option('--json', 'machine-readable output')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(action((o: Parameters<typeof incidentsCommand>[0]) => incidentsCommand(o, io)));
  program
    .command('approve <incident>')
    .description('approve the proposed runbook for an incident (console surface)')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(action((ref: string, o: { config?: string }) => approveCommand(ref, o, io)));
  program
    .command('dismiss <incident>')
    .description('dismiss an incident: no action, quiet until the target recovers')
    .option('--reason <text>', 'why, for the record')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(action((ref: string, o: { config?: string; reason?: string }) => dismissCommand(ref, o, io)));

  const runbooks = program.command('runbooks').description('check and list the runbooks');
  runbooks
    .command('lint')
    .description('check every runbook and list every problem as file:line (exit 1 on any error)')
    .option('--dir <folder>', 'runbooks folder (default: runbooks.dir of the config)')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(action((o: { dir?: string; config?: string }) => runbooksLintCommand(o, io)));
  runbooks
    .command('list')
    .description('the runbooks that load: id, mode, risk, what they match, their steps')
    .option('--json', 'print exactly one JSON document')
    .option('--dir <folder>', 'runbooks folder (default: runbooks.dir of the config)')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(action((o: { dir?: string; config?: string; json?: boolean }) => runbooksListCommand(o, io)));

  const config = program.command('config').description('validate the config or print its JSON Schema');
  config
    .command('validate')
    .description('validate the config file and list every problem')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(action((o: { config?: string }) => validateCommand(o, io)));
  config
    .command('schema')
    .description('print the JSON Schema of reef.yaml (for editor completion)')
    .option('--out <file>', 'write it to a file instead')
    .action(action((o: { out?: string }) => schemaCommand(o, io)));
  return program;
}

/** Runs the CLI and returns the process exit code. */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  loadDotEnv(io.cwd);
  let code = 0;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv]);
    return code;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 64;
    printError(io, error);
    if (isReefError(error) && error.code.startsWith('reef_config')) return 2;
    return 1;
  }
}
