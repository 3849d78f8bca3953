import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Queue } from 'bullmq';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import type { Clock } from '../../../src/adapters/clock.js';
import { fingerprintOf } from '../../../src/findings/finding.js';
import type { Incident } from '../../../src/incidents/incident.js';
import { BUNDLED_RUNBOOKS_DIR } from '../../../src/runbooks/location.js';
import { startHttpServer } from '../../../src/runtime/http-server.js';
import { type Role, startSurface, startWorker } from '../../../src/runtime/roles.js';
import { openRuntime, type Runtime } from '../../../src/runtime/runtime.js';
import { checksQueue, SWEEP_JOB, type SweepJobData } from '../../../src/schedule/queues.js';
import { MessageRefs } from '../../../src/surfaces/slack/message-refs.js';
import { type SlackBot, startSlack } from '../../../src/surfaces/slack/start-slack.js';
import { makeReplicaSet, setContainer } from '../../fixtures/kube-objects.js';
import { type FakeCluster, startFakeCluster } from '../../fixtures/kubeconfig.js';
import {
  APP_TOKEN,
  BOT_TOKEN,
  type PostedMessage,
  type SlackApiServer,
  startSlackApiServer,
} from '../../fixtures/slack-api-server.js';
import {
  blockActions,
  formBody,
  interactionBody,
  postSigned,
  SIGNING_SECRET,
  slashCommand,
} from '../../fixtures/slack-payloads.js';
import { eventually } from '../../helpers/eventually.js';
import { connect, dropPrefix, redisUrl, uniquePrefix } from '../../helpers/redis.js';

export const ALERTS = 'CALERTS';
export const DIGEST = 'CDIGEST';
export const ANA = 'UANA';
export const BEN = 'UBEN';
export const EVE = 'UEVE';
/** Approver through the user group SOPS only. */
export const GUS = 'UGUS';

export interface HarnessOptions {
  mode: 'http' | 'socket';
  /** Risk of the pod-restart runbook copy (high: two approvers). */
  risk?: 'low' | 'high';
  clock?: Clock;
  /** Extra YAML appended under `slack:`. */
  slackYaml?: string;
}

/**
 * Reef as `reef start` runs it, minus the scheduler: the real runtime (config file, Redis), the Slack
 * bot (Bolt in HTTP or Socket Mode) talking to the Slack stand-in, the surface role delivering events
 * from the Redis stream, the worker role (sweeps, decisions, runbook runs on BullMQ) acting on a fake
 * Kubernetes API server, and Reef's HTTP server with `/slack/events`.
 */
export function slackHarness(options: HarnessOptions) {
  let cluster: FakeCluster;
  let slack: SlackApiServer;
  const s = {} as {
    rt: Runtime;
    bot: SlackBot;
    roles: Role[];
    checks: Queue<SweepJobData>;
    eventsUrl: string;
    dir: string;
    closeHttp: () => Promise<void>;
  };

  beforeAll(async () => {
    [cluster, slack] = await Promise.all([startFakeCluster(), startSlackApiServer()]);
    cluster.server.store.put(makeReplicaSet({ name: 'web-6b7', namespace: 'apps', deployment: 'web' }));
  });
  afterAll(async () => {
    await Promise.all([cluster?.close(), slack?.close()]);
  });

  beforeEach(async () => {
    const prefix = uniquePrefix('slack');
    s.dir = mkdtempSync(path.join(tmpdir(), 'reef-slack-'));
    const runbooks = path.join(s.dir, 'runbooks');
    writeRunbook(runbooks, options.risk ?? 'low');
    const config = path.join(s.dir, 'reef.yaml');
    writeFileSync(
      config,
      [
        `redis: { prefix: ${prefix} }`,
        'timezone: UTC',
        'runbooks: { dir: runbooks }',
        `clusters: { lab: { kubeconfig: ${JSON.stringify(cluster.kubeconfig)}, context: ${cluster.context} } }`,
        'checks: { pods: [ { cluster: lab, namespaces: [apps] } ] }',
        'slack:',
        `  channels: { alerts: ${ALERTS}, digest: ${DIGEST} }`,
        `  approvers: { users: [${ANA}, ${BEN}], groups: [SOPS] }`,
        ...(options.slackYaml ? [options.slackYaml] : []),
        '',
      ].join('\n'),
    );
    slack.setGroup('SOPS', [GUS]);
    const env: NodeJS.ProcessEnv = {
      REDIS_URL: redisUrl(),
      REEF_DATA_DIR: path.join(s.dir, 'data'),
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_API_URL: slack.apiUrl,
      ...(options.mode === 'socket'
        ? { SLACK_APP_TOKEN: APP_TOKEN }
        : { SLACK_SIGNING_SECRET: SIGNING_SECRET }),
    };
    s.rt = await openRuntime({
      configFlag: config,
      env,
      cwd: s.dir,
      ...(options.clock ? { clock: options.clock } : {}),
    });
    const log = pino({ level: 'silent' });
    s.bot = (await startSlack(s.rt, log, env, {
      postQueue: { minIntervalMs: 10, baseBackoffMs: 20 },
      drainMs: 500,
    }))!;
    s.roles = [startWorker(s.rt, log), startSurface(s.rt, s.bot.surface, log), s.bot.role];
    s.checks = checksQueue(s.rt.redis.bullConnection(), prefix);
    const http = await startHttpServer(
      0,
      '127.0.0.1',
      async () => ({ status: 'ok', checks: {} }),
      s.bot.handleHttp,
    );
    s.eventsUrl = `http://127.0.0.1:${http.port}/slack/events`;
    s.closeHttp = http.close;
    if (options.mode === 'socket') await slack.socketConnected();
  });

  afterEach(async () => {
    // The worker and the surface each wait out a blocking Redis read (about a second): in parallel.
    const [slackRole, ...others] = [...s.roles].reverse();
    await Promise.all(others.map((r) => r.stop()));
    await slackRole?.stop();
    await s.checks.close();
    await s.closeHttp();
    const redis = connect();
    await dropPrefix(redis, s.rt.prefix);
    redis.disconnect();
    await s.rt.close();
    rmSync(s.dir, { recursive: true, force: true });
    for (const pod of cluster.server.store.list(
      cluster.server.store.typeOf({ kind: 'Pod', apiVersion: 'v1', metadata: { name: 'x' } }),
    ))
      cluster.server.deletePod(pod.metadata.namespace!, pod.metadata.name);
    slack.messages.length = 0;
    slack.calls.length = 0;
  });

  const h = {
    get slack() {
      return slack;
    },
    get cluster() {
      return cluster;
    },
    state: s,
    crashingPod(name: string) {
      cluster.server.addPod({ name, namespace: 'apps', owner: { kind: 'ReplicaSet', name: 'web-6b7' } });
      cluster.server.updatePod('apps', name, (p) =>
        setContainer(p, {
          name: 'app',
          state: 'CrashLoopBackOff',
          restartCount: 4,
          lastTermination: { reason: 'Error', exitCode: 1 },
        }),
      );
    },
    /** A sweep through the worker, as the schedule would; resolves with the pod's incident once it has `state`. */
    async sweepUntil(pod: string, state: Incident['state']): Promise<Incident> {
      const job = await s.checks.add(SWEEP_JOB, { trigger: 'test', only: 'lab' });
      const fp = fingerprintOf('pods', `apps/${pod}`, 'CrashLoopBackOff');
      // The decision comes before the sweep job finishes (and records itself as the last sweep).
      await eventually('the sweep job to finish', () => job.isCompleted());
      return eventually(`incident of ${pod} to be ${state}`, async () => {
        const incident = await s.rt.store.currentFor(fp);
        return incident?.state === state ? incident : undefined;
      });
    },
    /** A copy of Reef's message for an incident, once posted (and, with `until`, once it says so). */
    async messageOf(
      incidentId: string,
      until: (m: PostedMessage) => boolean = () => true,
    ): Promise<PostedMessage> {
      const refs = new MessageRefs(s.rt.connection, s.rt.prefix);
      return eventually(`the Slack message of incident #${incidentId}`, async () => {
        const ref = await refs.get(incidentId);
        const message = ref && slack.messages.find((m) => m.ts === ref.ts && m.channel === ref.channel);
        // A snapshot: the stand-in updates its copy in place, and a stale click needs the old buttons.
        return message && until(message) ? structuredClone(message) : undefined;
      });
    },
    /** Presses `actionId` on `message` as `user`; returns the HTTP status (or socket ack) and the response_url. */
    async click(
      message: PostedMessage,
      actionId: string,
      user: string,
      extra: { option?: string; value?: string; actionIdOverride?: string } = {},
    ): Promise<{ status: number; ms: number; responseUrl: string }> {
      const responseUrl = slack.responseUrl();
      const payload = blockActions(message, actionId, { user, responseUrl, ...extra });
      if (options.mode === 'socket') {
        const ack = await slack.sendEnvelope('interactive', payload);
        return { status: 200, ms: ack.ackMs, responseUrl };
      }
      const res = await postSigned(s.eventsUrl, interactionBody(payload));
      return { status: res.status, ms: res.ms, responseUrl };
    },
    async command(text: string, user: string): Promise<{ status: number; ms: number; responseUrl: string }> {
      const responseUrl = slack.responseUrl();
      const fields = slashCommand({ text, user, responseUrl });
      if (options.mode === 'socket') {
        const ack = await slack.sendEnvelope('slash_commands', fields);
        return { status: 200, ms: ack.ackMs, responseUrl };
      }
      const res = await postSigned(s.eventsUrl, formBody(fields));
      return { status: res.status, ms: res.ms, responseUrl };
    },
    /** The `n`-th answer posted to a response_url (waits for it). */
    async reply(responseUrl: string, n = 0): Promise<Record<string, unknown>> {
      return eventually(`answer ${n + 1} on ${responseUrl}`, async () => slack.responses(responseUrl)[n]);
    },
    async audit(incidentId?: string) {
      const { AuditLog } = await import('../../../src/audit/audit-log.js');
      return new AuditLog(s.rt.connection, s.rt.prefix).read(incidentId ? { incidentId } : {});
    },
  };
  return h;
}

/** The bundled pod-restart runbook with a one-second verify, at the given risk. */
function writeRunbook(dir: string, risk: 'low' | 'high'): void {
  const text = readFileSync(path.join(BUNDLED_RUNBOOKS_DIR, 'pod-restart.md'), 'utf8')
    .replace('risk: low', `risk: ${risk}`)
    .replace('verify: { after: 2m }', 'verify: { after: 1s }');
  if (!text.includes(`risk: ${risk}`) || !text.includes('after: 1s'))
    throw new Error('pod-restart.md changed; update the harness');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'pod-restart.md'), text);
}
