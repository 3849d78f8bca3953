import type { Redis } from 'ioredis';
import type { AuditLog } from '../audit/audit-log.js';
import type { EventBus } from '../events/event-bus.js';
import type { IncidentEvent } from '../events/incident-event.js';
import type { IncidentHistory } from '../history/incident-history.js';
import type { IncidentStore } from '../incidents/store.js';
import { notePath, renderIncidentNote } from './incident-note.js';
import type { MemoryRepo } from './memory-repo.js';

/**
 * Why a consumer group of its own: every incident event already travels on the event stream, so a
 * second group (`memory`) sees each one exactly once, independently of the surfaces, in whichever worker
 * is running, without the processes that resolve or escalate incidents (sweeps, watches, executions,
 * operator actions) having to know about memory. It records each event in incident history and, for a
 * resolved or escalated incident, writes its note and refreshes the index. A failure (git broken, Redis
 * down) leaves the event pending: it is delivered again, and writing a note twice changes nothing.
 */
export const MEMORY_GROUP = 'memory';

export interface MemoryConsumerDeps {
  bus: EventBus;
  incidents: IncidentHistory;
  store: IncidentStore;
  audit: AuditLog;
  /** Absent when memory is disabled: events are still recorded in history. */
  memory?: MemoryRepo;
  timezone: string;
}

/** Handles one event (exported for tests that feed events without a stream). */
export async function rememberEvent(
  deps: Omit<MemoryConsumerDeps, 'bus'>,
  event: IncidentEvent,
): Promise<void> {
  await deps.incidents.record(event);
  if (!deps.memory || (event.type !== 'resolved' && event.type !== 'escalated')) return;
  // The stored incident is the newest truth (an escalation may have been resolved since).
  const incident = (await deps.store.get(event.incident.id)) ?? event.incident;
  const actions = await deps.audit.read({ incidentId: incident.id, limit: 500 });
  const result = await deps.memory.commit(
    [
      {
        path: notePath(incident, deps.timezone),
        content: renderIncidentNote(incident, actions, deps.timezone),
      },
    ],
    `Incident #${incident.id} ${incident.state}: ${incident.check}/${incident.target} ${incident.condition}`,
  );
  if (result.status === 'committed') await deps.memory.refreshIndex();
}

/** Consumes the event stream as group `memory` until `signal` aborts. */
export function consumeForMemory(
  deps: MemoryConsumerDeps,
  blocking: Redis,
  signal: AbortSignal,
  onError: (message: string) => void,
): Promise<void> {
  return deps.bus.consume(blocking, (event) => rememberEvent(deps, event), signal, onError, MEMORY_GROUP);
}
