import type { IncomingMessage, ServerResponse } from 'node:http';
import { webApi } from '@slack/bolt';
import type { QueueEvents } from 'bullmq';
import type { Logger } from 'pino';
import { readLlmStatus, spendLine } from '../../diagnosis/llm-status.js';
import { errorMessage, ReefError } from '../../errors.js';
import { PauseFlag } from '../../guardrails/pause.js';
import { operatorDepsFor } from '../../operator/runtime-deps.js';
import { LiveCatalog } from '../../runbooks/live-catalog.js';
import { runbooksDirOf } from '../../runbooks/location.js';
import type { Role } from '../../runtime/roles.js';
import type { Runtime } from '../../runtime/runtime.js';
import { brainstormQueue, checksQueue, checksQueueEvents } from '../../schedule/queues.js';
import { listSchedules } from '../../schedule/scheduler.js';
import { parseDuration } from '../../util/duration.js';
import { Approvers } from './approvers.js';
import { createSlackApp } from './bolt-app.js';
import { boltLogger } from './bolt-logger.js';
import { type CommandDeps, handleCommand } from './commands.js';
import { handleClick, type InteractionDeps } from './interactions.js';
import { MessageRefs } from './message-refs.js';
import { PostQueue, type PostQueueOptions } from './post-queue.js';
import { readSlackEnv } from './slack-env.js';
import { slackHttpHandler } from './slack-http.js';
import { SlackPoster } from './slack-poster.js';
import { SlackSurface } from './slack-surface.js';

export interface SlackBot {
  mode: 'socket' | 'http';
  surface: SlackSurface;
  /** HTTP mode: answers `POST /slack/events` on Reef's HTTP server (returns false for other paths). */
  handleHttp?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Stops the app, lets queued posts go out (briefly), and closes what it opened. */
  role: Role;
}

export interface StartSlackOptions {
  postQueue?: PostQueueOptions;
  /** How long `/reef check` waits for its sweep. Default 2 minutes. */
  checkTimeoutMs?: number;
  /** How long stopping waits for queued posts. Default 5 s. */
  drainMs?: number;
}

/**
 * The Slack surface of the `bot` role (and `reef start`), or undefined when SLACK_BOT_TOKEN is unset
 * (the console surface stays). Checks the Slack settings first, so a missing channel or token is an
 * error at start-up that says what to set, not a silent console.
 */
export async function startSlack(
  rt: Runtime,
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
  options: StartSlackOptions = {},
): Promise<SlackBot | undefined> {
  const slackEnv = readSlackEnv(env);
  if (slackEnv.mode === 'off') return undefined;
  const slack = rt.config.slack;
  if (!slack.channels.alerts) {
    throw new ReefError('reef_config_invalid', 'SLACK_BOT_TOKEN is set but slack.channels.alerts is not', {
      hint: `Add to ${rt.loaded.path}:\nslack:\n  channels: { alerts: C0123ABCD }   # the channel id; invite the bot there`,
    });
  }
  const runbooks = new LiveCatalog(runbooksDirOf(rt.loaded, env), (level, message, fields) =>
    log[level](fields ?? {}, message),
  );
  const operator = operatorDepsFor(rt, runbooks);
  const queue = new PostQueue({
    ...options.postQueue,
    onRetry: (r) => {
      log.warn(
        { channel: r.channel, attempt: r.attempt, waitMs: r.waitMs, reason: r.reason },
        'Slack post retried',
      );
      options.postQueue?.onRetry?.(r);
    },
  });
  // Posting has its own client: no retries inside it (the queue retries, in order, honouring Retry-After).
  const postClient = new webApi.WebClient(slackEnv.botToken, {
    slackApiUrl: slackEnv.apiUrl,
    logger: boltLogger(log, 'post'),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: 15_000,
  });
  const refs = new MessageRefs(rt.connection, rt.prefix);
  const surface = new SlackSurface({
    poster: new SlackPoster(postClient, queue, log),
    refs,
    store: rt.store,
    get catalog() {
      return runbooks.current();
    },
    redis: rt.connection,
    prefix: rt.prefix,
    slack,
    clock: rt.clock,
    expireAfterMs: operator.expireAfterMs,
  });
  const approvers = new Approvers(
    slack.approvers,
    {
      members: async (group) => (await postClient.usergroups.users.list({ usergroup: group })).users ?? [],
    },
    rt.clock,
    parseDuration(slack.groupCacheTtl) ?? 60_000,
    (message) => log.warn(message),
  );
  const checks = checksQueue(rt.redis.bullConnection(), rt.prefix);
  const brainstorms = brainstormQueue(rt.redis.bullConnection(), rt.prefix);
  let events: Promise<QueueEvents> | undefined;
  const interactions: InteractionDeps = {
    operator,
    approvers,
    refs,
    refresh: (i) => surface.refresh(i),
    log,
  };
  const commands: CommandDeps = {
    operator,
    approvers,
    timezone: rt.config.timezone,
    pause: new PauseFlag(rt.connection, rt.prefix),
    checks,
    schedules: async () => (await Promise.all([listSchedules(checks), listSchedules(brainstorms)])).flat(),
    checkEvents: () => {
      events ??= (async () => {
        const e = checksQueueEvents(rt.redis.bullConnection(), rt.prefix);
        await e.waitUntilReady();
        return e;
      })();
      return events;
    },
    checkTimeoutMs: options.checkTimeoutMs ?? 120_000,
    brainstorm: brainstormNow(rt, env, slack.channels.digest ?? slack.channels.alerts),
    spendToday: async () =>
      spendLine(
        await readLlmStatus(
          {
            redis: rt.connection,
            prefix: rt.prefix,
            timezone: rt.config.timezone,
            llm: rt.config.llm,
            now: rt.clock.now(),
          },
          env,
        ),
      ),
  };
  const closeAll = async () => {
    queue.stop();
    await checks.close().catch(() => {});
    await brainstorms.close().catch(() => {});
    if (events) await (await events).close().catch(() => {});
    await operator.close();
  };
  let app: Awaited<ReturnType<typeof createSlackApp>>;
  try {
    app = await createSlackApp(
      slackEnv,
      {
        onClick: (body, reply) => handleClick(body, reply, interactions),
        onCommand: (command, reply) => handleCommand(command, reply, commands),
      },
      log,
    );
  } catch (error) {
    await closeAll();
    throw error;
  }
  log.info(
    { mode: app.mode, api: slackEnv.apiUrl, alerts: slack.channels.alerts },
    'Slack surface connected',
  );
  // The replay check runs before the ack: its own connection, never queued behind other work's commands.
  const guardRedis = app.requestListener ? rt.redis.connect() : undefined;
  guardRedis?.on('error', () => {});
  const handleHttp =
    app.requestListener && guardRedis && slackEnv.signingSecret
      ? slackHttpHandler({
          signingSecret: slackEnv.signingSecret,
          redis: guardRedis,
          prefix: rt.prefix,
          log,
          receiver: app.requestListener,
        })
      : undefined;
  return {
    mode: app.mode,
    surface,
    ...(handleHttp ? { handleHttp } : {}),
    role: {
      name: 'slack',
      async stop() {
        await app
          .stop()
          .catch((error: unknown) => log.warn({ err: errorMessage(error) }, 'Slack app stop failed'));
        const drained = queue.drain();
        await Promise.race([drained, new Promise((r) => setTimeout(r, options.drainMs ?? 5000).unref())]);
        await closeAll();
        guardRedis?.disconnect();
      },
    },
  };
}

/**
 * `/reef brainstorm`: the Nightly Brainstorm for the last 24 hours, run here as `reef brainstorm --now`
 * runs it in a shell; its digest reaches the digest channel through the notice stream. One at a time.
 */
function brainstormNow(
  rt: Runtime,
  env: NodeJS.ProcessEnv,
  channel: string,
): (by: string) => Promise<string> {
  let running: string | undefined;
  return async (by) => {
    if (running)
      return `A Brainstorm started by <@${running}> is still running; its digest follows in <#${channel}>.`;
    running = by;
    try {
      const [{ brainstormDeps }, { runBrainstorm }, { windowEndingAt }] = await Promise.all([
        import('../../brainstorm/deps.js'),
        import('../../brainstorm/run-brainstorm.js'),
        import('../../brainstorm/window.js'),
      ]);
      const warnings: string[] = [];
      const { deps, close } = brainstormDeps(rt, (message) => void warnings.push(message), env);
      try {
        const run = await runBrainstorm(deps, {
          window: windowEndingAt(rt.clock.now(), rt.config.timezone),
          trigger: `slack:${by}`,
        });
        return [
          `*${run.digest.title}*`,
          run.digest.summary,
          run.posted ? `The digest, with the full report attached, goes to <#${channel}>.` : '',
          ...warnings.map((w) => `:warning: ${w}`),
        ]
          .filter(Boolean)
          .join('\n');
      } finally {
        await close();
      }
    } finally {
      running = undefined;
    }
  };
}
