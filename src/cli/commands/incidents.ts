import { userInfo } from 'node:os';
import { ReefError } from '../../errors.js';
import type { Incident } from '../../incidents/incident.js';
import { isActive, transition } from '../../incidents/incident.js';
import { openRuntime, type Runtime } from '../../runtime/runtime.js';
import { colors, severityLabel, table } from '../../surfaces/format.js';
import { formatDuration } from '../../util/duration.js';
import { formatLocal } from '../../util/time.js';
import { type CliIo, print } from '../io.js';
import { loadCatalogFor, planFor, printPlan } from './plan.js';

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
 * `reef approve <incident>`: runs the matching runbook once runbooks exist. Until one matches, it says
 * so and changes nothing.
 */
export async function approveCommand(ref: string, options: { config?: string }, io: CliIo): Promise<number> {
  return withRuntime(options.config, io, async (rt) => {
    const incident = await rt.store.find(ref);
    if (!isActive(incident)) {
      throw new ReefError(
        'reef_invalid_transition',
        `Incident #${incident.id} is ${incident.state}; there is nothing to approve`,
        {
          hint: 'Run `reef incidents` to see what is open.',
        },
      );
    }
    const { plan } = planFor(incident, loadCatalogFor(rt, io.env));
    const note = plan.runbook
      ? `runbook ${plan.runbook.id} matches, but this version of Reef cannot run runbooks yet, so nothing was run; \`reef plan ${incident.id}\` shows its exact steps`
      : 'no runbook matches this incident, so there is nothing to run; handle it by hand, then `reef dismiss` it if it needs no action';
    await rt.bus.publish([
      { type: 'approval-unavailable', incident, at: rt.clock.now().toISOString(), by: `cli:${user()}`, note },
    ]);
    print(
      io.out,
      `Incident #${incident.id} (${incident.check}/${incident.target} ${incident.condition}): ${note}.`,
    );
    return 1;
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
