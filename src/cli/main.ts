import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { loadDotEnv } from '../env.js';
import { isReefError } from '../errors.js';
import type { auditCommand } from './commands/audit.js';
import type { checkCommand } from './commands/check.js';
import type { incidentsCommand } from './commands/incidents.js';
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
    .description(
      'run everything in one process: scheduler, worker, chat surface (Slack with SLACK_BOT_TOKEN, else the console), HTTP endpoints',
    )
    .option('-c, --config <file>', CONFIG_HELP)
    .action(
      action(async (o: { config?: string }) =>
        (await import('./commands/run.js')).runCommand(['scheduler', 'worker', 'bot'], o, io),
      ),
    );
  program
    .command('scheduler')
    .description('declare the schedules and keep them (scale-out role)')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(
      action(async (o: { config?: string }) =>
        (await import('./commands/run.js')).runCommand(['scheduler'], o, io),
      ),
    );
  program
    .command('worker')
    .description('process sweeps, runbook runs, verifications and the Brainstorm (run several to scale out)')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(
      action(async (o: { config?: string }) =>
        (await import('./commands/run.js')).runCommand(['worker'], o, io),
      ),
    );
  program
    .command('bot')
    .description(
      'talk to humans: incident messages, approvals and /reef on Slack (or the console), /slack/events',
    )
    .option('-c, --config <file>', CONFIG_HELP)
    .action(
      action(async (o: { config?: string }) =>
        (await import('./commands/run.js')).runCommand(['bot'], o, io),
      ),
    );

  program
    .command('check [target]')
    .description('probe now: with --once from this shell (no Redis needed), else through the running Reef')
    .option('--once', 'run every configured check here and now, without Redis')
    .option('--json', 'print exactly one JSON document')
    .option('-c, --config <file>', CONFIG_HELP)
    .option('--timeout <seconds>', 'how long to wait for the running Reef', '120')
    .action(
      action(async (target: string | undefined, o: Parameters<typeof checkCommand>[1]) =>
        (await import('./commands/check.js')).checkCommand(target, o, io),
      ),
    );

  program
    .command('status')
    .description('schedules and next runs, workers, last sweep, open incidents')
    .option('--json', 'machine-readable output')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(
      action(async (o: { json?: boolean; config?: string }) =>
        (await import('./commands/status.js')).statusCommand(o, io),
      ),
    );
  program
    .command('incidents')
    .description('list open incidents (or --all recent ones)')
    .option('--all', 'include resolved and dismissed incidents')
    .option('--limit <n>', 'with --all, how many', '50')
    .option('--json', 'machine-readable output')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(
      action(async (o: Parameters<typeof incidentsCommand>[0]) =>
        (await import('./commands/incidents.js')).incidentsCommand(o, io),
      ),
    );
  program
    .command('approve <incident>')
    .description('approve the proposed runbook for an incident (the shell twin of the Approve button)')
    .option('--runbook <id>', 'approve an alternative runbook Reef offers instead (see `reef plan`)')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(
      action(async (ref: string, o: { config?: string; runbook?: string }) =>
        (await import('./commands/incidents.js')).approveCommand(ref, o, io),
      ),
    );
  program
    .command('escalate <incident>')
    .description('take an incident by hand: nothing runs, Reef resolves it when the check passes')
    .option('--note <text>', 'why, for the record')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(
      action(async (ref: string, o: { config?: string; note?: string }) =>
        (await import('./commands/incidents.js')).escalateCommand(ref, o, io),
      ),
    );
  program
    .command('silence <incident> <duration>')
    .description(
      'no announcements about an incident for a while (1h, 24h); it speaks up again if still failing',
    )
    .option('-c, --config <file>', CONFIG_HELP)
    .action(
      action(async (ref: string, duration: string, o: { config?: string }) =>
        (await import('./commands/incidents.js')).silenceCommand(ref, duration, o, io),
      ),
    );
  program
    .command('plan <incident>')
    .description('show the runbook Reef would use for an incident, its decision and the exact steps')
    .option('--json', 'machine-readable output')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(
      action(async (ref: string, o: { config?: string; json?: boolean }) =>
        (await import('./commands/incidents.js')).planCommand(ref, o, io),
      ),
    );
  program
    .command('dismiss <incident>')
    .description('dismiss an incident: no action, quiet until the target recovers')
    .option('--reason <text>', 'why, for the record')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(
      action(async (ref: string, o: { config?: string; reason?: string }) =>
        (await import('./commands/incidents.js')).dismissCommand(ref, o, io),
      ),
    );

  program
    .command('demo')
    .description('the whole loop on a simulated world in about a minute (needs only Redis; a SIMULATION)')
    .option('--seconds <n>', 'how long to run before the Brainstorm and the summary', '60')
    .option('--keep', 'keep the demo folder (config, runbooks, memory, audit) and its Redis keys')
    .option('--kubeconfig <file>', "only the demo's own stand-in is accepted; a real cluster is refused")
    .action(
      action(async (o: { seconds?: string; keep?: boolean; kubeconfig?: string }) =>
        (await import('./commands/demo.js')).demoCommand(o, io),
      ),
    );
  program
    .command('audit')
    .description('the audit record: decisions, approvals, steps, verifications, with who and why')
    .option('--since <when>', 'a duration back from now (24h, 7d) or an ISO date', '24h')
    .option('--incident <n>', 'only the entries of one incident')
    .option('--limit <n>', 'at most this many, the newest', '200')
    .option('--json', 'print exactly one JSON document')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(
      action(async (o: Parameters<typeof auditCommand>[0]) =>
        (await import('./commands/audit.js')).auditCommand(o, io),
      ),
    );

  program
    .command('pause')
    .description('stop every runbook from running (checks and incidents carry on) until `reef resume`')
    .option('--reason <text>', 'why, for the record')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(
      action(async (o: { config?: string; reason?: string }) =>
        (await import('./commands/pause.js')).pauseCommand(o, io),
      ),
    );
  program
    .command('resume')
    .description('let runbooks run again after `reef pause`')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(
      action(async (o: { config?: string }) => (await import('./commands/pause.js')).resumeCommand(o, io)),
    );

  program
    .command('brainstorm')
    .description('run the Nightly Brainstorm now: report to memory, digest to the surface (needs Redis)')
    .option('--now', 'review the last 24 hours (the default)')
    .option('--date <YYYY-MM-DD>', "that night's report, as the schedule would have written it")
    .option('--json', 'print the computed report as one JSON document')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(
      action(async (o: { now?: boolean; date?: string; json?: boolean; config?: string }) =>
        (await import('./commands/brainstorm.js')).brainstormCommand(o, io),
      ),
    );

  const runbooks = program.command('runbooks').description('check and list the runbooks');
  runbooks
    .command('lint')
    .description('check every runbook and list every problem as file:line (exit 1 on any error)')
    .option('--dir <folder>', 'runbooks folder (default: runbooks.dir of the config)')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(
      action(async (o: { dir?: string; config?: string }) =>
        (await import('./commands/runbooks.js')).runbooksLintCommand(o, io),
      ),
    );
  runbooks
    .command('list')
    .description('the runbooks that load: id, mode, risk, what they match, their steps')
    .option('--json', 'print exactly one JSON document')
    .option('--dir <folder>', 'runbooks folder (default: runbooks.dir of the config)')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(
      action(async (o: { dir?: string; config?: string; json?: boolean }) =>
        (await import('./commands/runbooks.js')).runbooksListCommand(o, io),
      ),
    );

  const config = program
    .command('config')
    .description('validate the config, print its JSON Schema or its reference');
  config
    .command('validate')
    .description('validate the config file and list every problem')
    .option('-c, --config <file>', CONFIG_HELP)
    .action(
      action(async (o: { config?: string }) => (await import('./commands/config.js')).validateCommand(o, io)),
    );
  config
    .command('schema')
    .description('print the JSON Schema of reef.yaml (for editor completion)')
    .option('--out <file>', 'write it to a file instead')
    .action(
      action(async (o: { out?: string }) => (await import('./commands/config.js')).schemaCommand(o, io)),
    );
  config
    .command('reference')
    .description('print the configuration reference in Markdown (docs/configuration.md)')
    .option('--out <file>', 'write it to a file instead')
    .action(
      action(async (o: { out?: string }) => (await import('./commands/config.js')).referenceCommand(o, io)),
    );
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
