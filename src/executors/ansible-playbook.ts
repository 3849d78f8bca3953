import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { prepareAnsibleSsh } from './ansible-ssh.js';
import { resolveInside, resolveInsideReal, runTool, ToolNotFoundError } from './ansible-terraform-local.js';
import type { StepExecutor } from './executor.js';
import { configName } from './validate.js';

export interface AnsiblePlaybookParams {
  /** A host under `hosts:`; the inventory holds only it, and the run is `--limit`ed to it. */
  host: string;
  /** A playbook file, relative to the runbook's folder (and inside it). */
  playbook: string;
  /** Passed with `-e @file`, each value marked `!unsafe` so Ansible never evaluates `{{ … }}` in it. */
  extraVars?: Record<string, string>;
  /** `--check`: report what would change, change nothing. */
  check?: boolean;
}

/** How many tasks ended how on the host, from the PLAY RECAP line. */
export interface AnsibleRecap {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
  rescued: number;
  ignored: number;
}

const TIMEOUT_MS = 20 * 60_000;
const INVENTORY = '<inventory of the host>';
const EXTRA_VARS = '<extra vars file>';

export const ansiblePlaybookSchema: z.ZodType<AnsiblePlaybookParams> = z.strictObject({
  host: configName,
  playbook: z
    .string()
    .regex(/\.ya?ml$/, 'must be a .yml or .yaml file')
    .refine((p) => !p.includes('\0'), 'must not contain a NUL byte'),
  extraVars: z
    .record(
      z.string(),
      z.string().refine((v) => !v.includes('\0'), 'must not contain a NUL byte'),
    )
    // Checked here rather than as the record's key schema, which would only say "Invalid key in record".
    .superRefine((vars, ctx) => {
      for (const name of Object.keys(vars)) {
        const problem = !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)
          ? 'is not a variable name (letters, digits, "_")'
          : // Extra vars override everything: `ansible_ssh_common_args` & co. would run commands on Reef.
            /^ansible_/i.test(name)
            ? 'is an ansible_* connection variable, which a step cannot set'
            : undefined;
        if (problem) ctx.addIssue({ code: 'custom', path: [name], message: `"${name}" ${problem}` });
      }
    })
    .optional(),
  check: z.boolean().optional(),
});

function argv(
  params: AnsiblePlaybookParams,
  inventory: string,
  extraVars: string,
  playbook: string,
  become = false,
): string[] {
  return [
    'ansible-playbook',
    '-i',
    inventory,
    '--limit',
    params.host,
    // The host's `become: true`: Ansible's own become (sudo, no password prompt).
    ...(become ? ['--become'] : []),
    ...(params.extraVars && Object.keys(params.extraVars).length > 0 ? ['-e', `@${extraVars}`] : []),
    ...(params.check ? ['--check'] : []),
    playbook,
  ];
}

/**
 * `ansible.playbook: { host, playbook, extraVars?, check? }`: runs `ansible-playbook` on Reef's machine with
 * an inventory of just that host, built from its `hosts:` entry (address, port, user, key, bastions) and an
 * ssh_config that keeps its host-key pin (see ansible-ssh.ts). The run's Ansible settings come from a
 * generated ansible.cfg, and every inherited ANSIBLE_* variable is dropped, so neither a stray ansible.cfg
 * nor Reef's environment can turn host-key checking off or bring back ControlPersist.
 */
export const ansiblePlaybookExecutor: StepExecutor<AnsiblePlaybookParams> = {
  type: 'ansible.playbook',
  mutates: true,
  schema: ansiblePlaybookSchema,
  check(params, runbook) {
    resolveInside(runbook.dir, params.playbook, 'playbook');
  },
  describe(params, runbook) {
    const playbook = path.resolve(runbook.dir, params.playbook);
    return `${argv(params, INVENTORY, EXTRA_VARS, playbook).join(' ')} (ssh: -o ControlMaster=no -o ControlPath=none, host key as pinned in hosts.${params.host})`;
  },
  async execute(params, context) {
    if (!context.hostConfig)
      throw new Error('ansible.playbook needs the hosts config (StepContext.hostConfig)');
    const host = context.hostConfig(params.host);
    if (!host)
      throw new Error(`ansible.playbook: unknown host "${params.host}"; add it under hosts: in reef.yaml`);
    const playbook = await resolveInsideReal(context.runbook.dir, params.playbook, 'playbook');
    const dir = await mkdtemp(path.join(tmpdir(), 'reef-ansible-'));
    try {
      const env = ansibleEnv(dir);
      let connection: Record<string, string>;
      let sshArgs = '-o ControlMaster=no -o ControlPath=none';
      if ('local' in host) {
        connection = {
          ansible_connection: 'local',
          ansible_python_interpreter: '{{ ansible_playbook_python }}',
        };
      } else {
        const ssh = await prepareAnsibleSsh({
          name: params.host,
          hostConfig: context.hostConfig,
          dir,
          env,
          signal: context.signal,
          log: (line) => context.log(line),
        });
        connection = { ansible_connection: 'ssh', ansible_host: ssh.alias };
        sshArgs = `-F ${quote(ssh.configPath)} ${sshArgs}`;
      }
      const inventory = path.join(dir, 'inventory.yml');
      const extraVars = path.join(dir, 'extra-vars.yml');
      // JSON is YAML: no quoting mistakes in host names or values.
      await writeFile(inventory, JSON.stringify({ all: { hosts: { [params.host]: connection } } }));
      await writeFile(extraVars, unsafeVars(params.extraVars ?? {}), { mode: 0o600 });
      await mkdir(path.join(dir, 'tmp'));
      await writeFile(path.join(dir, 'ansible.cfg'), ansibleConfig(dir, sshArgs));
      const command = argv(params, inventory, extraVars, playbook, host.become === true);
      context.log(
        `ansible-playbook ${params.playbook} on ${params.host}${params.check ? ' (check mode)' : ''}`,
      );
      const result = await runTool(command, {
        cwd: path.dirname(playbook),
        env,
        timeoutMs: TIMEOUT_MS,
        signal: context.signal,
      }).catch((error: unknown) => {
        if (error instanceof ToolNotFoundError) {
          throw new Error(
            'ansible.playbook: ansible-playbook is not installed on the machine Reef runs on (Debian: apt-get install ansible-core)',
          );
        }
        throw error;
      });
      const output = `$ ${command.join(' ')}\n${result.output.trimEnd()}`;
      const recap = parseRecap(result.output, params.host);
      const counts = recap
        ? `ok=${recap.ok} changed=${recap.changed} unreachable=${recap.unreachable} failed=${recap.failed}`
        : 'no recap';
      const ok = result.code === 0 && recap !== undefined && recap.failed === 0 && recap.unreachable === 0;
      const how = result.killed ? `killed: ${result.killed}` : `exit ${result.code}`;
      return {
        ok,
        summary: `${params.playbook} on ${params.host}${params.check ? ' (check mode)' : ''}: ${counts}${ok ? '' : ` (${how}${recap ? '' : `: ${lastLine(result.output)}`})`}`,
        output,
        data: {
          playbook: params.playbook,
          check: params.check ?? false,
          exitCode: result.code,
          ...(recap ? { recap } : {}),
        },
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

/** The counts for `host` from the last PLAY RECAP in the output. */
export function parseRecap(output: string, host: string): AnsibleRecap | undefined {
  const at = output.lastIndexOf('PLAY RECAP');
  if (at < 0) return undefined;
  const escaped = host.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const line = new RegExp(`^${escaped}\\s*:\\s*(.*)$`, 'm').exec(output.slice(at))?.[1];
  if (!line) return undefined;
  const count = (key: string) => Number(new RegExp(`\\b${key}=(\\d+)`).exec(line)?.[1] ?? 0);
  return {
    ok: count('ok'),
    changed: count('changed'),
    unreachable: count('unreachable'),
    failed: count('failed'),
    skipped: count('skipped'),
    rescued: count('rescued'),
    ignored: count('ignored'),
  };
}

/** Reef's environment minus every ANSIBLE_* setting, plus the generated config. */
function ansibleEnv(dir: string): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('ANSIBLE_')));
  return { ...env, ANSIBLE_CONFIG: path.join(dir, 'ansible.cfg'), ANSIBLE_NOCOLOR: '1' };
}

function ansibleConfig(dir: string, sshArgs: string): string {
  return [
    '[defaults]',
    'host_key_checking = True',
    'retry_files_enabled = False',
    'nocolor = True',
    `local_tmp = ${path.join(dir, 'tmp')}`,
    'interpreter_python = auto_silent',
    '[ssh_connection]',
    // Replaces the default `-C -o ControlMaster=auto -o ControlPersist=60s`.
    `ssh_args = ${sshArgs}`,
    'pipelining = True',
    '',
  ].join('\n');
}

/** YAML with every value tagged `!unsafe`; a JSON string is a valid YAML double-quoted scalar. */
function unsafeVars(vars: Record<string, string>): string {
  const lines = Object.entries(vars).map(([key, value]) => `${key}: !unsafe ${JSON.stringify(value)}`);
  return lines.length > 0 ? `${lines.join('\n')}\n` : '{}\n';
}

function quote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function lastLine(output: string): string {
  const lines = output.trim().split('\n');
  return lines.find((l) => /^(ERROR!|fatal:)/.test(l)) ?? lines.at(-1) ?? 'no output';
}
