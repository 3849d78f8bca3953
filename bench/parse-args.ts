import { ReefError } from '../src/errors.js';

/**
 * What `npm run bench -- …` asked for. Flags and scenario names may come in any order; a wrong flag or
 * name stops the run before any scenario starts, so a long benchmark is never lost to a typo at its end.
 */
export interface BenchArgs {
  /** Small sizes: every scenario's code paths in a couple of minutes; figures not representative. */
  quick: boolean;
  /** Also write the Markdown report to this file; null: print it only. */
  out: string | null;
  /** Scenario names as given, without repeats; empty: every scenario. */
  names: string[];
  help: boolean;
}

/** The help text, listing every flag and scenario name. */
export function benchUsage(scenarios: readonly string[]): string {
  return [
    'Usage: npm run bench -- [--quick] [--out FILE] [scenario ...]',
    '  --quick       small sizes: a smoke run of every scenario in a couple of minutes (figures not representative)',
    '  --out FILE    also write the Markdown report to FILE, e.g. --out bench/report.md (--out=FILE works too)',
    '  --help, -h    this text',
    `Scenarios (default: all): ${scenarios.join(', ')}`,
  ].join('\n');
}

/** Parses the arguments after `npm run bench --`; throws a `reef_usage` ReefError on anything else. */
export function parseBenchArgs(argv: readonly string[], scenarios: readonly string[]): BenchArgs {
  const accepted = `Accepted: --quick, --out FILE, --help, and scenario names: ${scenarios.join(', ')}.`;
  const usageError = (message: string, hint = accepted) =>
    new ReefError('reef_usage', message, {
      hint: `${hint} (npm run bench -- [--quick] [--out FILE] [name ...])`,
    });
  const args: BenchArgs = { quick: false, out: null, names: [], help: false };
  const unknownNames: string[] = [];
  const setOut = (file: string | undefined) => {
    if (file === undefined || file === '' || file.startsWith('-'))
      throw usageError('--out needs a file name.', 'Give one, e.g. --out bench/report.md.');
    if (args.out !== null)
      throw usageError(`--out is given twice ("${args.out}" and "${file}").`, 'Give one report file.');
    args.out = file;
  };
  let optionsEnded = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!optionsEnded && arg.startsWith('-')) {
      if (arg === '--') optionsEnded = true;
      else if (arg === '--quick') args.quick = true;
      else if (arg === '--help' || arg === '-h') args.help = true;
      else if (arg === '--out') setOut(argv[++i]);
      else if (arg.startsWith('--out=')) setOut(arg.slice('--out='.length));
      else throw usageError(`Unknown option "${arg}".`);
      continue;
    }
    if (!scenarios.includes(arg)) unknownNames.push(arg);
    else if (!args.names.includes(arg)) args.names.push(arg);
  }
  if (unknownNames.length > 0) {
    throw usageError(
      `Unknown scenario ${unknownNames.map((n) => `"${n}"`).join(', ')}.`,
      `Available: ${scenarios.join(', ')}; flags: --quick, --out FILE, --help.`,
    );
  }
  return args;
}
