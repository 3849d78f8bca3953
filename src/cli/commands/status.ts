import { formatLlmStatus, readLlmStatus } from '../../diagnosis/llm-status.js';
import { DEFAULT_EXPIRE_AFTER_MS } from '../../execution/decide.js';
import { PauseFlag } from '../../guardrails/pause.js';
import { awaitingSince } from '../../operator/candidates.js';
import { openRuntime } from '../../runtime/runtime.js';
import { readLastSweep } from '../../runtime/sweep-processor.js';
import { readWatchRecords } from '../../runtime/watch-record.js';
import { brainstormQueue, checksQueue } from '../../schedule/queues.js';
import { listSchedules } from '../../schedule/scheduler.js';
import { formatDuration, parseDuration } from '../../util/duration.js';
import { formatLocal, relative } from '../../util/time.js';
import { type CliIo, print } from '../io.js';
import { incidentTable } from './incidents.js';

/** `reef status`: schedules and their next run in local time, workers, the last sweep, open incidents. */
export async function statusCommand(
  options: { json?: boolean; config?: string },
  io: CliIo,
): Promise<number> {
  const rt = await openRuntime({ configFlag: options.config, env: io.env, cwd: io.cwd });
  const queue = checksQueue(rt.redis.bullConnection(), rt.prefix);
  const brainstorm = brainstormQueue(rt.redis.bullConnection(), rt.prefix);
  try {
    const now = rt.clock.now();
    const watched = rt.config.checks.pods.filter((t) => t.watch).map((t) => t.cluster);
    const [schedules, workers, last, current, watches, pause] = await Promise.all([
      Promise.all([listSchedules(queue), listSchedules(brainstorm)]).then((lists) => lists.flat()),
      queue.getWorkersCount(),
      readLastSweep(rt.connection, rt.prefix),
      rt.store.current(),
      readWatchRecords(rt.connection, rt.prefix, watched),
      new PauseFlag(rt.connection, rt.prefix).isPaused(),
    ]);
    const open = current.filter((i) => i.state !== 'dismissed').sort((a, b) => Number(b.id) - Number(a.id));
    const llm = await readLlmStatus(
      { redis: rt.connection, prefix: rt.prefix, timezone: rt.config.timezone, llm: rt.config.llm, now },
      io.env,
    );
    const tz = rt.config.timezone;
    if (options.json) {
      print(
        io.out,
        JSON.stringify({
          redis: rt.redis.label,
          prefix: rt.prefix,
          timezone: tz,
          schedules,
          workers,
          paused: pause.paused
            ? { by: pause.by, at: pause.at.toISOString(), reason: pause.reason ?? null }
            : false,
          lastSweep: last ?? null,
          watches: watches.map((w) => w.record ?? { cluster: w.cluster, state: 'not running' }),
          openIncidents: open,
          llm,
        }),
      );
      return 0;
    }
    print(
      io.out,
      `Reef: ${rt.redis.label} (prefix "${rt.prefix}"), config ${rt.loaded.path}${rt.loaded.embedded ? ' (embedded default)' : ''}`,
    );
    print(io.out, `Time zone: ${tz}`);
    print(io.out);
    print(io.out, 'Schedules:');
    if (schedules.length === 0) print(io.out, '  none (start Reef with `reef start` or `reef scheduler`)');
    for (const s of schedules) {
      const next = s.next ? `${formatLocal(s.next, tz)} (${relative(s.next, now)})` : 'not scheduled';
      print(io.out, `  ${s.id.padEnd(10)} ${(s.pattern ?? '').padEnd(14)} next ${next}`);
    }
    print(io.out, `Workers online: ${workers}`);
    print(io.out, formatLlmStatus(llm));
    if (pause.paused) {
      print(
        io.out,
        `PAUSED by ${pause.by} since ${formatLocal(pause.at, tz)}${pause.reason ? ` (${pause.reason})` : ''}: no runbook runs until \`reef resume\``,
      );
    }
    if (last) {
      const c = last.counts;
      print(
        io.out,
        `Last sweep: ${formatLocal(last.startedAt, tz, true)} (${relative(last.startedAt, now)}), took ${last.durationMs} ms, ${last.probed} probed: ${c.ok} ok, ${c.warning} warning, ${c.critical} critical, ${c.errors} check errors (${last.trigger})`,
      );
    } else print(io.out, 'Last sweep: none yet');
    if (watches.length > 0) {
      print(io.out, 'Kubernetes watches:');
      for (const { cluster, record: w } of watches) {
        if (!w) {
          print(
            io.out,
            `  ${cluster.padEnd(12)} not running (the scheduler role runs them: \`reef start\` or \`reef scheduler\`)`,
          );
          continue;
        }
        const event = w.lastEventAt ? `, last event ${relative(w.lastEventAt, now)}` : ', no event yet';
        const version = w.resourceVersion ? `, resourceVersion ${w.resourceVersion}` : '';
        const scope = w.namespaces ? ` [${w.namespaces.join(', ')}]` : ' [all namespaces]';
        print(
          io.out,
          `  ${cluster.padEnd(12)} ${w.state} since ${formatLocal(w.since, tz, true)} (${relative(w.since, now)})${event}${version}${scope}${w.error ? `: ${w.error}` : ''}`,
        );
      }
    }
    print(io.out);
    if (open.length === 0) print(io.out, 'Open incidents: none. All green.');
    else {
      print(io.out, `Open incidents: ${open.length}`);
      print(io.out, incidentTable(open, tz, io.color));
      // What a human is being asked, and until when: the requests expire and escalate on their own.
      const expireAfterMs = parseDuration(rt.config.approvals.expireAfter) ?? DEFAULT_EXPIRE_AFTER_MS;
      for (const i of open.filter((x) => x.state === 'awaiting-approval')) {
        const since = awaitingSince(i);
        const left = since + expireAfterMs - now.getTime();
        print(
          io.out,
          `Awaiting approval: #${i.id} runbook ${i.proposedRunbookId ?? '(see reef plan)'}, asked ${relative(new Date(since), now)}, ${left > 0 ? `expires in ${formatDuration(left)}` : 'expired'} → reef approve ${i.id} · reef plan ${i.id} · reef dismiss ${i.id}`,
        );
      }
    }
    return 0;
  } finally {
    await queue.close();
    await brainstorm.close();
    await rt.close();
  }
}
