import { userInfo } from 'node:os';
import { AuditLog } from '../../audit/audit-log.js';
import { ReefError } from '../../errors.js';
import { enqueueRun, executionsQueue } from '../../execution/queue.js';
import type { Incident } from '../../incidents/incident.js';
import { transition } from '../../incidents/incident.js';
import { planFor } from '../../runbooks/plan.js';
import { openRuntime, type Runtime } from '../../runtime/runtime.js';
import { colors, severityLabel, table } from '../../surfaces/format.js';
import { formatDuration } from '../../util/duration.js';
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
 * `reef approve <incident>`: audits the approval and queues the run of the matching runbook (the
 * worker applies every guardrail). Only an incident awaiting approval can be approved; the job id is
 * deterministic, so approving twice runs once.
 */
export async function approveCommand(ref: string, options: { config?: string }, io: CliIo): Promise<number> {
  return withRuntime(options.config, io, async (rt) => {
    const incident = await rt.store.find(ref);
    if (incident.state !== 'awaiting-approval') {
      throw new ReefError(
        'reef_invalid_transition',
        `Incident #${incident.id} is ${incident.state}, not awaiting approval: there is nothing to approve`,
        {
          hint:
            incident.state === 'escalated'
              ? 'Reef handed it to a human (see `reef audit --incident ' +
                incident.id +
                '`); `reef plan ' +
                incident.id +
                '` shows what a runbook would do.'
              : 'Run `reef incidents` to see which incidents await approval.',
        },
      );
    }
    const { plan } = planFor(incident, loadCatalogFor(rt, io.env));
    if (plan.decision === 'escalate' || plan.decision === 'refuse') {
      throw new ReefError(
        'reef_invalid_transition',
        `Incident #${incident.id}: ${plan.decision === 'escalate' ? plan.reason : `${plan.reason}: ${plan.problems.join('; ')}`}`,
        {
          hint: `\`reef plan ${incident.id}\` shows why; handle it by hand, then \`reef dismiss ${incident.id}\`.`,
        },
      );
    }
    const by = `cli:${user()}`;
    await new AuditLog(rt.connection, rt.prefix, { dataDir: rt.env.dataDir, clock: rt.clock }).record({
      actor: by,
      action: 'approval',
      incidentId: incident.id,
      fingerprint: incident.fingerprint,
      runbookId: plan.runbook.id,
      target: `${incident.check}/${incident.target}`,
      why: `approved runbook ${plan.runbook.id} from the console`,
    });
    const queue = executionsQueue(rt.redis.bullConnection(), rt.prefix);
    try {
      await enqueueRun(queue, incident.id, plan.runbook.id, by);
    } finally {
      await queue.close();
    }
    print(
      io.out,
      `Approved #${incident.id} (${incident.check}/${incident.target} ${incident.condition}): runbook ${plan.runbook.id} is queued; a worker runs it once, with every guardrail.`,
    );
    return 0;
  });
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
  return withRuntime(options.config, io, async (rt) => {
    const found = await rt.store.find(ref);
    const by = `cli:${user()}`;
    const dismissed = await rt.store.withLock(found.fingerprint, async () => {
      const incident = (await rt.store.get(found.id)) ?? found;
      const next = transition(incident, 'dismissed', rt.clock.now(), {
        by,
        ...(options.reason ? { note: options.reason } : {}),
      });
      await rt.store.save(next);
      return next;
    });
    await rt.bus.publish([
      {
        type: 'dismissed',
        incident: dismissed,
        at: dismissed.updatedAt,
        by,
        ...(options.reason ? { note: options.reason } : {}),
      },
    ]);
    print(
      io.out,
      `Dismissed #${dismissed.id} (${dismissed.check}/${dismissed.target} ${dismissed.condition}). Reef stays quiet about it until the target recovers.`,
    );
    return 0;
  });
}

function user(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
