import { randomUUID } from 'node:crypto';
import type { Queue, QueueEvents } from 'bullmq';
import type { SweepResult } from '../../checks/sweep.js';
import { errorMessage } from '../../errors.js';
import type { PauseFlag } from '../../guardrails/pause.js';
import { type OperatorDeps, silence } from '../../operator/actions.js';
import { readLastSweep } from '../../runtime/sweep-processor.js';
import { SWEEP_JOB, type SweepJobData } from '../../schedule/queues.js';
import type { ScheduleInfo } from '../../schedule/scheduler.js';
import { parseDuration } from '../../util/duration.js';
import { formatLocal } from '../../util/time.js';
import type { Approvers } from './approvers.js';
import { escapeMrkdwn } from './blocks.js';
import { incidentsReport, runbooksReport, statusReport, sweepReport } from './command-reports.js';

export const HELP = [
  '*Reef* — `/reef <command>`',
  '• `status` — schedules, workers, last sweep, pause, open incidents',
  '• `check [target]` — sweep now (everything, or one target); answers when it is done',
  '• `incidents` — open incidents',
  '• `runbooks` — the runbooks Reef loaded and what they match',
  '• `silence <incident|fingerprint|target> <duration>` — quiet for a while, e.g. `silence 42 1h` (approvers)',
  '• `pause [reason]` / `resume` — stop / allow every runbook run (approvers)',
  '• `brainstorm` — run the Nightly Brainstorm now',
  '• `help` — this list',
  'Answers are visible only to you; add `--public` to post one in the channel.',
].join('\n');

export interface CommandDeps {
  operator: OperatorDeps;
  approvers: Approvers;
  timezone: string;
  pause: PauseFlag;
  checks: Queue<SweepJobData>;
  /** Every Job Scheduler (sweeps, the Brainstorm) with its next run. */
  schedules: () => Promise<ScheduleInfo[]>;
  /** Opened on first use (a `/reef check` waits on it). */
  checkEvents: () => Promise<QueueEvents>;
  /** How long `/reef check` waits for the sweep. */
  checkTimeoutMs: number;
  /** Runs the Nightly Brainstorm now; absent while this build has none. */
  brainstorm?: (by: string) => Promise<string>;
  /** LLM spend today, when the diagnosis reports one. */
  spendToday?: () => Promise<string | undefined>;
}

export interface CommandInput {
  text: string;
  user_id: string;
}

/** Answers through the command's response_url; `public` posts it in the channel. */
export type CommandReply = (text: string, options?: { public?: boolean }) => Promise<void>;

const APPROVER_ONLY = new Set(['silence', 'pause', 'resume']);

/**
 * `/reef …`, after Bolt acked it. Quick answers come at once; a sweep answers twice (queued, then
 * done), both through the response_url, so nothing slow ever runs before the ack.
 */
export async function handleCommand(
  input: CommandInput,
  reply: CommandReply,
  deps: CommandDeps,
): Promise<{ sub: string; ok: boolean }> {
  const words = input.text.trim().split(/\s+/).filter(Boolean);
  const isPublic = words.includes('--public');
  const [sub = 'help', ...args] = words.filter((w) => w !== '--public');
  const say = (text: string) => reply(text, { public: isPublic });
  const name = sub.toLowerCase();
  if (APPROVER_ONLY.has(name)) {
    const allowed = await deps.approvers.check(input.user_id);
    if (!allowed.ok) {
      await deps.operator.audit.record({
        actor: input.user_id,
        action: 'approval-refused',
        why: `/reef ${name}: ${allowed.message}`,
        details: { surface: 'slack', command: name },
      });
      await reply(`\`/reef ${name}\` is for approvers. ${allowed.message}`);
      return { sub: name, ok: false };
    }
  }
  try {
    switch (name) {
      case 'help':
        await say(HELP);
        return { sub: name, ok: true };
      case 'status':
        await say(await status(deps));
        return { sub: name, ok: true };
      case 'incidents':
        await say(incidentsReport(await openIncidents(deps)));
        return { sub: name, ok: true };
      case 'runbooks':
        await say(runbooksReport(deps.operator.catalog));
        return { sub: name, ok: true };
      case 'check':
        return { sub: name, ok: await check(args[0], input.user_id, say, deps) };
      case 'silence':
        return { sub: name, ok: await silenceCommand(args, input.user_id, say, deps) };
      case 'pause':
        await pauseCommand(args.join(' '), input.user_id, say, deps);
        return { sub: name, ok: true };
      case 'resume':
        await resumeCommand(input.user_id, say, deps);
        return { sub: name, ok: true };
      case 'brainstorm':
        if (!deps.brainstorm) {
          await say('The Nightly Brainstorm is not available in this build yet; nothing was started.');
          return { sub: name, ok: false };
        }
        await say(
          ':hourglass_flowing_sand: Brainstorm started for the last 24 hours; I answer here when it is written.',
        );
        await say(await deps.brainstorm(input.user_id));
        return { sub: name, ok: true };
      default:
        await reply(`Reef has no command \`${escapeMrkdwn(sub)}\`.\n${HELP}`);
        return { sub: name, ok: false };
    }
  } catch (error) {
    await reply(`:x: \`/reef ${escapeMrkdwn(name)}\` failed: ${escapeMrkdwn(errorMessage(error))}`);
    return { sub: name, ok: false };
  }
}

async function openIncidents(deps: CommandDeps) {
  return (await deps.operator.store.current())
    .filter((i) => i.state !== 'dismissed')
    .sort((a, b) => Number(b.id) - Number(a.id));
}

async function status(deps: CommandDeps): Promise<string> {
  const { operator } = deps;
  const [schedules, workers, last, open, pause, spend] = await Promise.all([
    deps.schedules(),
    deps.checks.getWorkersCount(),
    readLastSweep(operator.redis, operator.prefix),
    openIncidents(deps),
    deps.pause.isPaused(),
    deps.spendToday?.() ?? Promise.resolve(undefined),
  ]);
  return statusReport({
    now: operator.clock.now(),
    timezone: deps.timezone,
    schedules,
    workers,
    last,
    pause,
    open,
    ...(spend ? { spend } : {}),
  });
}

async function check(
  target: string | undefined,
  user: string,
  say: (text: string) => Promise<void>,
  deps: CommandDeps,
): Promise<boolean> {
  if ((await deps.checks.getWorkersCount()) === 0) {
    await say(
      ':x: No Reef worker is running, so nothing can sweep. Start one (`reef start` or `reef worker`).',
    );
    return false;
  }
  const events = await deps.checkEvents();
  const job = await deps.checks.add(
    SWEEP_JOB,
    { trigger: `slack:${user}`, ...(target ? { only: target } : {}) },
    { jobId: `slack-${randomUUID()}` },
  );
  await say(
    `:hourglass_flowing_sand: Sweep${target ? ` of \`${escapeMrkdwn(target)}\`` : ''} queued; I answer here when it is done.`,
  );
  try {
    const result = (await job.waitUntilFinished(events, deps.checkTimeoutMs)) as SweepResult;
    await say(sweepReport(result, target));
    return true;
  } catch (error) {
    await say(
      `:x: The sweep did not finish: ${escapeMrkdwn(errorMessage(error))}. \`/reef status\` shows the workers.`,
    );
    return false;
  }
}

async function silenceCommand(
  args: readonly string[],
  user: string,
  say: (text: string) => Promise<void>,
  deps: CommandDeps,
): Promise<boolean> {
  const [what, length] = args;
  const forMs = length ? parseDuration(length) : undefined;
  if (!what || forMs === undefined) {
    await say(
      'Usage: `/reef silence <incident|fingerprint|target> <duration>`, e.g. `/reef silence 42 1h` or `/reef silence web-1:/var 24h`.',
    );
    return false;
  }
  let ref = what.replace(/^#/, '');
  if (!/^\d+$/.test(ref) && !/^[0-9a-f]{6,16}$/.test(ref)) {
    const matches = (await openIncidents(deps)).filter(
      (i) => i.target === what || `${i.check}/${i.target}` === what,
    );
    if (matches.length !== 1) {
      await say(
        matches.length === 0
          ? `No open incident has target \`${escapeMrkdwn(what)}\`; \`/reef incidents\` lists them.`
          : `Several open incidents have target \`${escapeMrkdwn(what)}\` (${matches.map((i) => `#${i.id}`).join(', ')}): silence one by its number.`,
      );
      return false;
    }
    ref = matches[0]!.id;
  }
  const result = await silence(deps.operator, { ref, by: user, forMs });
  await say(result.ok ? `:zzz: ${escapeMrkdwn(result.message)}` : `:x: ${escapeMrkdwn(result.message)}`);
  return result.ok;
}

async function pauseCommand(
  reason: string,
  user: string,
  say: (text: string) => Promise<void>,
  deps: CommandDeps,
): Promise<void> {
  const at = deps.operator.clock.now();
  const before = await deps.pause.pause(user, at, reason || undefined);
  await deps.operator.audit.record({
    actor: user,
    action: 'pause',
    why: reason || 'paused from Slack',
    details: { surface: 'slack' },
  });
  const again = before.paused ? ` (it was already paused by ${escapeMrkdwn(before.by)})` : '';
  await say(
    `:double_vertical_bar: Reef paused by <@${user}> at ${formatLocal(at, deps.timezone)}${again}: no runbook runs until \`/reef resume\`. Checks and incidents carry on.`,
  );
}

async function resumeCommand(
  user: string,
  say: (text: string) => Promise<void>,
  deps: CommandDeps,
): Promise<void> {
  const before = await deps.pause.resume(user, deps.operator.clock.now());
  if (!before.paused) {
    await say('Reef is not paused; nothing to resume.');
    return;
  }
  await deps.operator.audit.record({
    actor: user,
    action: 'resume',
    why: 'resumed from Slack',
    details: { surface: 'slack' },
  });
  await say(
    `:arrow_forward: Reef resumed by <@${user}>; it was paused by ${escapeMrkdwn(before.by)}${before.reason ? ` (${escapeMrkdwn(before.reason)})` : ''}.`,
  );
}
