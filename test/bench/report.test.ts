import { describe, expect, it } from 'vitest';
import { type BenchArgs, benchUsage, parseBenchArgs } from '../../bench/parse-args.js';
import { figuresOf, type Machine, renderReport, type ScenarioOutcome } from '../../bench/report.js';
import { ReefError } from '../../src/errors.js';

const MACHINE: Machine = {
  cpuModel: 'Test CPU @ 2.0GHz',
  cpuCount: 2,
  memoryGiB: 7.8,
  nodeVersion: 'v20.19.0',
  platform: 'linux x64',
  date: '2026-11-28 08:00 UTC',
};

const OUTCOMES: ScenarioOutcome[] = [
  {
    name: 'executions',
    status: 'ok',
    wallMs: 12_345,
    report: {
      table: [
        ['metric', 'value'],
        ['executions per second (all 200)', '41.7'],
        ['approvals | run jobs', '600 → 200 ok'],
      ],
      notes: ['not in the report'],
      figures: { ignored: true },
    },
  },
  {
    name: 'sweep',
    status: 'ok',
    wallMs: 2_000,
    report: {
      table: [
        ['', 'first', 'c=256'],
        ['sweep wall time (ms)', '812.3', '801.0'],
        ['watch: start-up (ms)', '95.0', ''],
        ['only the second', '', '7'],
      ],
      notes: [],
      figures: {},
    },
  },
  { name: 'disk', status: 'failed', wallMs: 150, error: "needs OpenSSH's sshd: /usr/sbin/sshd not found" },
];

describe('the benchmark report', () => {
  it('folds every row of every scenario into one Markdown table, failures included', () => {
    expect(renderReport({ machine: MACHINE, quick: false, outcomes: OUTCOMES })).toBe(
      [
        '# Reef benchmark report',
        '',
        '- Machine: Test CPU @ 2.0GHz, 2 CPUs, 7.8 GiB memory, linux x64',
        '- Node: v20.19.0',
        '- Date: 2026-11-28 08:00 UTC',
        '- Scenarios: executions 12.3 s, sweep 2.0 s, disk 0.1 s (failed); total 14.5 s; 1 failed',
        '',
        '| scenario | figure | value |',
        '| --- | --- | --- |',
        '| executions | executions per second (all 200) | 41.7 |',
        '| executions | approvals \\| run jobs | 600 → 200 ok |',
        '| sweep | sweep wall time (ms) | first: 812.3; c=256: 801.0 |',
        '| sweep | watch: start-up (ms) | 95.0 |',
        '| sweep | only the second | c=256: 7 |',
        "| disk | failed | needs OpenSSH's sshd: /usr/sbin/sshd not found |",
        '',
        "Each scenario's set-up and caveats are printed with its own table above (`npm run bench -- <name>`).",
        '',
      ].join('\n'),
    );
  });

  it('says in its heading that a quick run is only a smoke test', () => {
    const text = renderReport({ machine: MACHINE, quick: true, outcomes: OUTCOMES.slice(0, 1) });
    expect(text.split('\n')[0]).toBe('# Reef benchmark report (quick smoke: figures are not representative)');
    expect(text).toContain('- Scenarios: executions 12.3 s; total 12.3 s\n');
  });

  it('labels the columns of a row-per-item table and keeps a cell on one line', () => {
    expect(
      figuresOf([
        ['design', 'LLM calls', 'est. dollars'],
        ['Reef (incidents only)', '7', '$0.0123'],
        ['LLM on every check', '84000', '~$150.00\nestimated'],
      ]),
    ).toEqual([
      { figure: 'Reef (incidents only)', value: 'LLM calls: 7; est. dollars: $0.0123' },
      { figure: 'LLM on every check', value: 'LLM calls: 84000; est. dollars: ~$150.00\nestimated' },
    ]);
    const text = renderReport({
      machine: MACHINE,
      quick: false,
      outcomes: [
        {
          name: 'diagnosis',
          status: 'ok',
          wallMs: 1000,
          report: {
            table: [
              ['design', 'calls', 'dollars'],
              ['full', '9', '~$1\n(est.)'],
            ],
            notes: [],
            figures: {},
          },
        },
      ],
    });
    expect(text).toContain('| diagnosis | full | calls: 9; dollars: ~$1 (est.) |\n');
  });

  it('shows a scenario whose table has no rows instead of dropping it', () => {
    const text = renderReport({
      machine: MACHINE,
      quick: false,
      outcomes: [
        {
          name: 'empty',
          status: 'ok',
          wallMs: 0,
          report: { table: [['metric', 'value']], notes: [], figures: {} },
        },
      ],
    });
    expect(text).toContain('| empty | (no figures) |  |\n');
  });
});

describe('npm run bench arguments', () => {
  const NAMES = ['sweep', 'disk', 'pods'];
  const parse = (...argv: string[]) => parseBenchArgs(argv, NAMES);
  const usageError = (argv: string[]): ReefError => {
    try {
      parseBenchArgs(argv, NAMES);
    } catch (error) {
      if (error instanceof ReefError) return error;
      throw error;
    }
    throw new Error(`parseBenchArgs accepted ${JSON.stringify(argv)}`);
  };

  it('runs everything at full size by default', () => {
    expect(parse()).toEqual<BenchArgs>({ quick: false, out: null, names: [], help: false });
  });

  it('takes flags and scenario names in any order, each name once', () => {
    expect(parse('pods', '--out', 'bench/report.md', 'sweep', '--quick', 'pods')).toEqual<BenchArgs>({
      quick: true,
      out: 'bench/report.md',
      names: ['pods', 'sweep'],
      help: false,
    });
    expect(parse('--out=r.md', 'disk')).toMatchObject({ out: 'r.md', names: ['disk'] });
    expect(parse('-h')).toMatchObject({ help: true });
    expect(parse('--quick', '--', 'sweep')).toMatchObject({ quick: true, names: ['sweep'] });
  });

  it('refuses an unknown flag, naming what it accepts', () => {
    const error = usageError(['sweep', '--fast']);
    expect(error.code).toBe('reef_usage');
    expect(error.message).toBe('Unknown option "--fast".');
    expect(error.hint).toContain('--quick, --out FILE, --help, and scenario names: sweep, disk, pods');
  });

  it('refuses unknown scenario names, all of them at once', () => {
    const error = usageError(['sweep', 'swep', '--quick', 'pod']);
    expect(error.message).toBe('Unknown scenario "swep", "pod".');
    expect(error.hint).toContain('Available: sweep, disk, pods');
  });

  it('refuses --out without a file, or twice', () => {
    expect(usageError(['--out']).message).toBe('--out needs a file name.');
    expect(usageError(['--out', '--quick']).message).toBe('--out needs a file name.');
    expect(usageError(['--out=']).message).toBe('--out needs a file name.');
    expect(usageError(['--out', 'a.md', '--out', 'b.md']).message).toBe(
      '--out is given twice ("a.md" and "b.md").',
    );
  });

  it('lists every flag and scenario in its help', () => {
    const help = benchUsage(NAMES);
    for (const word of ['--quick', '--out FILE', '--help', 'sweep, disk, pods']) expect(help).toContain(word);
  });
});
