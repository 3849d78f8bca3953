import path from 'node:path';
import { deleteKeysUnder } from '../../src/adapters/redis.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { decide } from '../../src/execution/decide.js';
import { executionsQueue } from '../../src/execution/queue.js';
import { fingerprintOf } from '../../src/findings/finding.js';
import type { Incident } from '../../src/incidents/incident.js';
import { loadCatalog } from '../../src/runbooks/catalog.js';
import type { Runtime } from '../../src/runtime/runtime.js';
import { ACTION_IDS } from '../../src/surfaces/slack/actions.js';
import { MessageRefs } from '../../src/surfaces/slack/message-refs.js';
import type { PostedMessage } from '../../test/fixtures/slack-api-server.js';

// The Slack bench's set-up: incidents put to approval by Reef's real decision, and the messages the
// Slack surface posted for them, read back from the stand-in.

/** Incidents awaiting approval through the real decision, and their Slack messages once posted. */
export async function openIncidents(
  rt: Runtime,
  count: number,
  posted: () => Promise<PostedMessage[]>,
  signal: AbortSignal,
): Promise<PostedMessage[]> {
  const catalog = loadCatalog(path.join(path.dirname(rt.loaded.path), 'runbooks'));
  const queue = executionsQueue(rt.redis.bullConnection(), rt.prefix);
  const deps = {
    catalog,
    store: rt.store,
    bus: rt.bus,
    audit: new AuditLog(rt.connection, rt.prefix, { clock: rt.clock }),
    clock: rt.clock,
    queue,
  };
  const now = rt.clock.now().toISOString();
  try {
    for (let n = 0; n < count; n++) {
      const pod = `web-${n}`;
      const incident: Incident = {
        id: await rt.store.nextId(),
        fingerprint: fingerprintOf('pods', `apps/${pod}`, 'CrashLoopBackOff'),
        check: 'pods',
        target: `apps/${pod}`,
        probe: 'bench',
        condition: 'CrashLoopBackOff',
        state: 'open',
        severity: 'critical',
        summary: 'container app is crash-looping: 4 restarts, last exit 1 (Error)',
        facts: {
          cluster: 'bench',
          namespace: 'apps',
          pod,
          ownerKind: 'Deployment',
          ownerName: `web-${n}`,
          stateful: false,
        },
        openedAt: now,
        updatedAt: now,
        lastSeenAt: now,
        occurrences: 1,
        openingsInWindow: 1,
        flapping: false,
        history: [{ at: now, state: 'open' }],
      };
      await rt.store.save(incident);
      await rt.bus.publish([{ type: 'opened', incident, at: now }]);
      if ((await decide(incident, deps)) !== 'ask')
        throw new Error(`incident ${incident.id} was not put to approval`);
    }
  } finally {
    await queue.close();
  }
  const refs = new MessageRefs(rt.connection, rt.prefix);
  const ids = Array.from({ length: count }, (_, n) => String(n + 1));
  let found: PostedMessage[] = [];
  await waitFor('the incident messages', signal, async () => {
    const all = await posted();
    const withButtons = await Promise.all(
      ids.map(async (id) => {
        const ref = await refs.get(id);
        const m = ref && all.find((p) => p.ts === ref.ts);
        return m && JSON.stringify(m.blocks).includes(ACTION_IDS.approve) ? m : undefined;
      }),
    );
    found = withButtons.filter((m): m is PostedMessage => m !== undefined);
    return found.length === ids.length;
  });
  return found;
}

export async function waitFor(
  what: string,
  signal: AbortSignal,
  probe: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    signal.throwIfAborted();
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function dropPrefix(rt: Runtime, prefix: string): Promise<void> {
  await deleteKeysUnder(rt.connection, prefix);
}

/** The incident a message's Approve button names. */
export function incidentOf(message: PostedMessage): string {
  const actions = (message.blocks ?? []).find((b) => b.type === 'actions') as {
    elements: { action_id: string; value?: string }[];
  };
  const approve = actions.elements.find((e) => e.action_id === ACTION_IDS.approve)!;
  return (JSON.parse(approve.value!) as { i: string }).i;
}
