import { userInfo } from 'node:os';
import { ReefError } from '../../errors.js';
import type { Incident } from '../../incidents/incident.js';
import {
  type ActionResult,
  approve,
  dismiss,
  escalateToHuman,
  type OperatorDeps,
  type RefusalReason,
  silence,
} from '../../operator/actions.js';
import { operatorDepsFor } from '../../operator/runtime-deps.js';
import { openRuntime, type Runtime } from '../../runtime/runtime.js';
import { colors, severityLabel, table } from '../../surfaces/format.js';
import { formatDuration, parseDuration } from '../../util/duration.js';
import { formatLocal } from '../../util/time.js';
import { type CliIo, print } from '../io.js';
import { loadCatalogFor, printPlan } from './plan.js';

async function withRuntime<T>(
  configFlag: string | undefined,
  io: CliIo,
  fn: (rt: Runtime) => Promise<T>,
): Promise<T> {
  const rt = await openRuntime({ configFlag, env: io.env, cwd: io.cwd });
  try {
    return await fn(rt);
  } finally {
    await rt.close();
  }
}

/** `reef incidents [--all] [--json]`: current incidents (or the recent history), newest first. */
export async function incidentsCommand(
  options: { all?: boolean; json?: boolean; config?: string; limit?: string },
  io: CliIo,
): Promise<number> {
  return withRuntime(options.config, io, async (rt) => {
    const limit = Number(options.limit ?? 50);
    const incidents = options.all
      ? await rt.store.list({ limit })
      : (await rt.store.current()).sort((a, b) => Number(b.id) - Number(a.id));
    if (options.json) {
      print(io.out, JSON.stringify({ incidents }));
      return 0;
    }
    if (incidents.length === 0) {
      print(io.out, options.all ? 'No incidents recorded.' : 'No open incidents. All green.');
      return 0;
    }
    print(io.out, incidentTable(incidents, rt.config.timezone, io.color));
    return 0;
  });
}

export function incidentTable(incidents: readonly Incident[], tz: string, color: boolean): string {
  const c = colors(color);
  return table(
    ['ID', 'STATE', 'SEVERITY', 'TARGET', 'CONDITION', 'OPENED', 'SUMMARY'],
    incidents.map((i) => [
      `#${i.id}`,
      i.state +
        (i.flapping ? ' (flapping)' : '') +
        (i.state === 'resolved' && i.durationMs !== undefined
          ? ` after ${formatDuration(i.durationMs)}`
          : ''),
      severityLabel(i.severity, c),
      `${i.check}/${i.target}`,
      i.condition,
      formatLocal(i.openedAt, tz),
      i.summary,
    ]),
  );
}

/**
 * Runs one operator action with its dependencies; a refusal is an error (exit 1) with the reason,
 * already audited by the action.
 */
async function operatorCommand(
  configFlag: string | undefined,
  io: CliIo,
  act: (deps: OperatorDeps, by: string) => Promise<ActionResult>,
): Promise<number> {
  return withRuntime(configFlag, io, async (rt) => {
    const deps = operatorDepsFor(rt, loadCatalogFor(rt, io.env));
    try {
      const result = await act(deps, `cli:${user()}`);
      if (!result.ok) {
        throw new ReefError('reef_invalid_transition', result.message, {
          hint: hintFor(result.reason, result.incident?.id),
        });
      }
      print(io.out, result.message);
      return 0;
    } finally {
      await deps.close();
    }
  });
}

function hintFor(reason: RefusalReason, id: string | undefined): string {
  const ref = id ?? '<incident>';
  switch (reason) {
    case 'unknown-incident':
      return 'Run `reef incidents` to list them; use the number shown in the first column.';
    case 'expired':
    case 'not-awaiting':
      return `\`reef audit --incident ${ref}\` shows what happened; \`reef plan ${ref}\` shows what a runbook would do.`;
    case 'not-a-candidate':
      return `\`reef plan ${ref}\` lists the runbooks offered for it.`;
    case 'unsafe':
      return `\`reef plan ${ref}\` shows why; handle it by hand, then \`reef dismiss ${ref}\`.`;
    case 'same-approver':
      return 'Ask another approver to run `reef approve` (or click Approve in Slack).';
    default:
      return 'Nothing was changed.';
  }
}

/**
 * `reef approve <incident> [--runbook <id>]`: approves the proposed runbook (or an alternative Reef
 * offers) and queues its run; the worker applies every guardrail. Only an incident awaiting approval
 * can be approved, within `approvals.expireAfter`; high-risk runbooks need two different approvers; the
 * job id is deterministic, so approving twice runs once.
 */
export async function approveCommand(
  ref: string,
  options: { config?: string; runbook?: string },
  io: CliIo,
): Promise<number> {
  return operatorCommand(options.config, io, (deps, by) =>
    approve(deps, { ref, by, ...(options.runbook ? { runbookId: options.runbook } : {}) }),
  );
}

/** `reef escalate <incident> [--note]`: nothing runs; a human handles it. */
export async function escalateCommand(
  ref: string,
  options: { config?: string; note?: string },
  io: CliIo,
): Promise<number> {
  return operatorCommand(options.config, io, (deps, by) =>
    escalateToHuman(deps, { ref, by, ...(options.note ? { note: options.note } : {}) }),
  );
}

/** `reef silence <incident> <duration>`: no announcements for a while. */
export async function silenceCommand(
  ref: string,
  duration: string,
  options: { config?: string },
  io: CliIo,
): Promise<number> {
  const forMs = parseDuration(duration);
  if (forMs === undefined) {
    throw new ReefError('reef_usage', `"${duration}" is not a duration`, {
      hint: 'Use e.g. 30m, 1h, 24h.',
    });
  }
  return operatorCommand(options.config, io, (deps, by) => silence(deps, { ref, by, forMs }));
}

/** `reef plan <incident> [--json]`: which runbook, what decision, and the exact steps. */
export async function planCommand(
  ref: string,
  options: { config?: string; json?: boolean },
  io: CliIo,
): Promise<number> {
  return withRuntime(options.config, io, async (rt) => {
    printPlan(await rt.store.find(ref), loadCatalogFor(rt, io.env), io, Boolean(options.json));
    return 0;
  });
}

/** `reef dismiss <incident> [--reason]`: the operator takes it; Reef stays quiet until the target recovers. */
export async function dismissCommand(
  ref: string,
  options: { config?: string; reason?: string },
  io: CliIo,
): Promise<number> {
  return operatorCommand(options.config, io, (deps, by) =>
    dismiss(deps, { ref, by, ...(options.reason ? { reason: options.reason } : {}) }),
  );
}

function user(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
