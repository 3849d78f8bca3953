import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import type { AuditRecord } from '../../src/audit/audit-entry.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { ExecutionRecords } from '../../src/execution/execution-record.js';
import { fingerprintOf } from '../../src/findings/finding.js';
import type { Incident, IncidentState } from '../../src/incidents/incident.js';
import { IncidentStore } from '../../src/incidents/store.js';
import { notePath } from '../../src/memory/incident-note.js';
import { readWatchRecords } from '../../src/runtime/watch-record.js';
import { checksQueue, SWEEP_JOB } from '../../src/schedule/queues.js';
import { ACTION_IDS } from '../../src/surfaces/slack/actions.js';
import { MessageRefs } from '../../src/surfaces/slack/message-refs.js';
import {
  type AgedCertificate,
  ageLineage,
  type CertbotHost,
  certbotHost,
  issueLineage,
} from '../fixtures/certbot-lineage.js';
import { makeDeployment, makeReplicaSet, makeSecret, setContainer } from '../fixtures/kube-objects.js';
import { type FakeCluster, startFakeCluster } from '../fixtures/kubeconfig.js';
import {
  freePort,
  pebbleIssuer,
  pebbleUnavailable,
  startPebble,
  type TestPebble,
} from '../fixtures/pebble.js';
import {
  BOT_TOKEN,
  type PostedMessage,
  type SlackApiServer,
  startSlackApiServer,
} from '../fixtures/slack-api-server.js';
import { blockActions, interactionBody, postSigned, SIGNING_SECRET } from '../fixtures/slack-payloads.js';
import { sshdUnavailable, startSshd, type TestSshd } from '../fixtures/sshd.js';
import { startTlsIngress, type TlsIngress } from '../fixtures/tls-ingress.js';
import { RunningCli, runCli } from '../helpers/cli.js';
import { eventually } from '../helpers/eventually.js';
import { connect, dropPrefix, redisUrl, uniquePrefix } from '../helpers/redis.js';
import { ALERTS, APPROVER, APPS, DIGEST, INGRESS, writeSite } from './site.js';

const CERT = 'shop.reef-test.example';
const POD = 'web-6b7-a';

const unavailable =
  sshdUnavailable() ??
  pebbleUnavailable() ??
  (existsSync('/usr/bin/certbot') ? undefined : '/usr/bin/certbot is missing (apt-get install certbot)');
if (unavailable) console.warn(`skipping the end-to-end acceptance test: ${unavailable}`);

/**
 * The whole loop, on the real `reef start` process (config file, Redis, scheduler, pod watches, worker,
 * Slack surface in HTTP mode behind Reef's own HTTP server), against loopback stand-ins at the protocol
 * boundaries: the Kubernetes API server, Slack's Web API (Reef's clicks arrive as correctly signed
 * requests), plus a real sshd, a real certbot and a real pebble. The test only acts where a human or the
 * world would (a pod starts crash-looping, a certificate ages, an approver clicks) and reads what Reef
 * left: Redis, the audit log, the Slack messages, the memory git repository.
 */
describe.skipIf(unavailable)('acceptance: the full loop on `reef start`', () => {
  let dir: string;
  let prefix: string;
  let redis: Redis;
  let cluster: FakeCluster;
  let slack: SlackApiServer;
  let sshd: TestSshd;
  let pebble: TestPebble;
  let ingress: TlsIngress;
  let certbot: CertbotHost;
  let aged: AgedCertificate;
  let configFile: string;
  let reef: RunningCli;
  let eventsUrl: string;
  let store: IncidentStore;
  let audit: AuditLog;
  const closers: (() => Promise<unknown>)[] = [];

  const env = (): NodeJS.ProcessEnv => ({
    REDIS_URL: redisUrl(),
    REEF_DATA_DIR: path.join(dir, 'data'),
    REEF_HTTP_PORT: '0',
    REEF_CONFIG: '',
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.apiUrl,
    SLACK_APP_TOKEN: '',
    // The rule-based diagnoser: no request may leave the machine.
    ANTHROPIC_API_KEY: '',
  });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'reef-acceptance-'));
    closers.push(() => rm(dir, { recursive: true, force: true }));
    prefix = uniquePrefix('accept');
    redis = connect();
    closers.push(async () => {
      await dropPrefix(redis, prefix);
      redis.disconnect();
    });
    store = new IncidentStore(redis, prefix);
    audit = new AuditLog(redis, prefix);
    [cluster, slack, sshd, pebble] = await Promise.all([
      startFakeCluster({ context: 'home-admin' }),
      startSlackApiServer(),
      startSshd(),
      startPebble(),
    ]);
    closers.push(
      () => cluster.close(),
      () => slack.close(),
      () => sshd.stop(),
      () => pebble.stop(),
    );

    // The certbot host's state (on the machine behind sshd): a real lineage from pebble, aged to expire
    // in 10 days, as when the renewal cron has stopped running; the ingress serves it from its Secret.
    await mkdir(path.join(dir, 'edge'));
    certbot = await certbotHost(path.join(dir, 'edge'), pebble, await freePort());
    await issueLineage(certbot, pebble, CERT);
    const issuer = await pebbleIssuer(pebble);
    aged = await ageLineage(certbot, CERT, issuer, path.join(dir, 'aging'), 10);
    cluster.server.store.put(
      makeSecret({
        name: CERT,
        namespace: INGRESS,
        type: 'kubernetes.io/tls',
        data: { 'tls.crt': aged.fullchain, 'tls.key': aged.key },
      }),
    );
    ingress = await startTlsIngress(cluster.server, INGRESS);
    closers.push(() => ingress.close());
    const caFile = path.join(dir, 'pebble-root.pem');
    await writeFile(caFile, issuer.root);

    // Deployment web → ReplicaSet web-6b7 → pod web-6b7-a, healthy for now.
    cluster.server.store.put(makeDeployment({ name: 'web', namespace: APPS }));
    cluster.server.store.put(makeReplicaSet({ name: 'web-6b7', namespace: APPS, deployment: 'web' }));
    cluster.server.addPod({ name: POD, namespace: APPS, owner: { kind: 'ReplicaSet', name: 'web-6b7' } });

    configFile = writeSite({
      dir,
      prefix,
      kubeconfig: cluster.kubeconfig,
      context: cluster.context,
      sshd,
      certbot,
      certName: CERT,
      ingressUrl: ingress.url,
      caFile,
    });
    reef = new RunningCli(['start', '--config', configFile], { cwd: dir, env: env() });
    // Stopped first (by pid, SIGTERM, as a supervisor would): it uses everything above. It must stop cleanly.
    closers.push(async () => {
      const code = await reef.stop();
      if (code !== 0) throw new Error(`reef start exited ${code} on SIGTERM:\n${reef.stderr.slice(-4000)}`);
    });
    const [, port] = await reef.waitFor(
      /Slack surface \(HTTP, \/slack\/events\)[\s\S]*Health: http:\/\/127\.0\.0\.1:(\d+)\/healthz/,
    );
    eventsUrl = `http://127.0.0.1:${port}/slack/events`;
    await eventually(
      'the pod watch to connect',
      async () => (await readWatchRecords(redis, prefix, ['home']))[0]?.record?.state === 'connected',
      15_000,
    );
  }, 60_000);

  afterAll(async () => {
    // Every closer runs, even after one fails: nothing may be left running.
    const failures: unknown[] = [];
    for (const close of closers.splice(0).reverse()) await close().catch((error) => failures.push(error));
    if (failures.length > 0) throw failures[0];
  });
  beforeEach(() => {
    // What Reef logged is the first thing to read when a step of the loop does not happen.
    onTestFailed(() => {
      console.error(`reef start stderr (last 6000 characters):\n${reef?.stderr.slice(-6000)}`);
    });
  });

  const incidentIn = (fingerprint: string, state: IncidentState, timeoutMs = 15_000) =>
    eventually(
      `incident ${fingerprint} to be ${state}`,
      async () => {
        const incident = await store.currentFor(fingerprint);
        return incident?.state === state ? incident : undefined;
      },
      timeoutMs,
    );
  const settled = (id: string, timeoutMs = 20_000) =>
    eventually(
      `incident #${id} to resolve`,
      async () => {
        const incident = await store.get(id);
        return incident?.state === 'resolved' ? incident : undefined;
      },
      timeoutMs,
    );
  /** Reef's message for the incident once it offers Approve (a snapshot: the stand-in updates in place). */
  const approvalMessage = (incident: Incident) => {
    const refs = new MessageRefs(redis, prefix);
    return eventually(`the Slack message of incident #${incident.id} with Approve`, async () => {
      const ref = await refs.get(incident.id);
      const message = ref && slack.messages.find((m) => m.ts === ref.ts && m.channel === ref.channel);
      return message && JSON.stringify(message.blocks).includes(ACTION_IDS.approve)
        ? structuredClone(message)
        : undefined;
    });
  };
  /** The approver presses Approve: a `block_actions` request signed with the signing secret. */
  const clickApprove = async (message: PostedMessage) => {
    const responseUrl = slack.responseUrl();
    const payload = blockActions(message, ACTION_IDS.approve, { user: APPROVER, responseUrl });
    const res = await postSigned(eventsUrl, interactionBody(payload));
    expect(res.status).toBe(200);
    const answer = await eventually('the answer to the click', async () => slack.responses(responseUrl)[0]);
    expect(String(answer.text)).toMatch(/queued/);
  };
  const auditOf = (id: string) =>
    eventually(`the verification of incident #${id} in the audit`, async () => {
      const entries = await audit.read({ incidentId: id });
      return entries.some((e) => e.action === 'verification') ? entries : undefined;
    });
  const thread = (message: PostedMessage) => slack.inThread(message.ts).map((m) => m.text);
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', path.join(dir, 'memory'), ...args], { encoding: 'utf8' });

  it('a crash loop seen by the watch is diagnosed, approved by a signed click, evicted, verified, audited, remembered and counted in the Brainstorm', async () => {
    const fingerprint = fingerprintOf('pods', `${APPS}/${POD}`, 'CrashLoopBackOff');
    expect(await store.currentFor(fingerprint)).toBeUndefined();

    // The world: the pod starts crash-looping. Only the watch stream can see it: nothing sweeps.
    cluster.server.updatePod(APPS, POD, (p) =>
      setContainer(p, {
        name: 'app',
        state: 'CrashLoopBackOff',
        restartCount: 4,
        lastTermination: { reason: 'Error', exitCode: 1 },
      }),
    );
    const asked = await incidentIn(fingerprint, 'awaiting-approval');
    expect(asked).toMatchObject({ check: 'pods', probe: 'home', target: `${APPS}/${POD}` });
    expect(asked.facts).toMatchObject({ namespace: APPS, pod: POD, ownerName: 'web' });
    expect(asked.history.map((h) => h.state)).toEqual(['open', 'diagnosed', 'awaiting-approval']);
    expect(asked.diagnosis).toMatchObject({ diagnoser: 'rules', recommendedRunbookId: 'pod-restart' });
    expect(asked.proposedRunbookId).toBe('pod-restart');

    // One Block Kit message in the alerts channel, offering Approve for pod-restart.
    const message = await approvalMessage(asked);
    expect(message.channel).toBe(ALERTS);
    expect(slack.messages.filter((m) => !m.threadTs)).toHaveLength(1);
    const blocks = JSON.stringify(message.blocks);
    expect(blocks).toContain('CrashLoopBackOff');
    expect(blocks).toContain(`POST /api/v1/namespaces/${APPS}/pods/${POD}/eviction`);
    expect(cluster.server.count({ resource: 'pods/eviction' })).toBe(0);

    await clickApprove(message);
    const resolved = await settled(asked.id);
    const actions = await auditOf(asked.id);
    expect(cluster.server.count({ resource: 'pods/eviction', name: POD })).toBe(1);
    // The watch sees the evicted pod go within milliseconds, before or after the run moved on to
    // `verifying`; either way the run's verification follows and finds the fix held.
    const states = resolved.history.map((h) => h.state);
    expect(states.slice(0, 4)).toEqual(['open', 'diagnosed', 'awaiting-approval', 'executing']);
    expect([['resolved'], ['verifying', 'resolved']]).toContainEqual(states.slice(4));
    expect(resolved.history.find((h) => h.state === 'executing')?.by).toBe(APPROVER);
    expectInOrder(actions, [
      'decision',
      'approval-requested',
      'approval',
      'execution',
      'step',
      'execution',
      'verification',
    ]);
    expect(actions.find((e) => e.action === 'approval')?.actor).toBe(APPROVER);
    expect(actions.find((e) => e.action === 'step')?.why).toBe(
      `ok: evicted pod ${APPS}/${POD} on cluster home (PodDisruptionBudgets respected)`,
    );
    const verification = actions.find((e) => e.action === 'verification')!;
    expect(verification.details).toMatchObject({ result: 'passed' });
    expect(verification.why).toMatch(
      /^(resolved after runbook pod-restart \(target gone\)|the pods check passed for home after runbook pod-restart)/,
    );

    // The message was updated in place and the run's story told in its thread.
    const story = await eventually('the thread to say Verified', async () =>
      thread(message).some((t) => t.includes('Verified')) ? thread(message) : undefined,
    );
    expect(story.join('\n')).toMatch(/Running runbook pod-restart, approved by <@UANA>/);
    expect(slack.messages.filter((m) => !m.threadTs)).toHaveLength(1);

    // Memory: the worker's memory consumer committed a note for the resolved incident.
    const note = notePath(resolved, 'UTC');
    const notePathOnDisk = path.join(dir, 'memory', note);
    await eventually('the incident note in memory', async () => existsSync(notePathOnDisk), 15_000);
    await eventually('the note to be committed', async () =>
      git('log', '--format=%s').includes(
        `Incident #${asked.id} resolved: pods/${APPS}/${POD} CrashLoopBackOff`,
      ),
    );
    expect(git('ls-files', note).trim()).toBe(note);
    const noteText = readFileSync(notePathOnDisk, 'utf8');
    expect(noteText).toContain(`# Incident #${asked.id}: pods/${APPS}/${POD} CrashLoopBackOff — resolved`);
    expect(noteText).toMatch(/\*\*executing\*\* by UANA/);

    // The next Brainstorm (as `reef brainstorm --now`) counts it, commits its report, posts its digest.
    const run = await runCli(['brainstorm', '--now', '--json', '--config', configFile], {
      cwd: dir,
      env: env(),
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as {
      date: string;
      path: string;
      memory: { status: string; commit?: string };
      report: { summary: Record<string, unknown> };
    };
    expect(out.report.summary).toMatchObject({
      opened: 1,
      approved: 1,
      resolved: 1,
      fixedAutomatically: 0,
      escalated: 0,
      dismissed: 0,
      recoveredOnTheirOwn: 0,
      openedByCheck: { pods: 1 },
    });
    expect(out.memory.status).toBe('committed');
    const reportFile = `brainstorm/${out.date}.md`;
    expect(out.path).toBe(path.join(dir, 'memory', reportFile));
    expect(git('log', '-1', '--format=%H %s', '--', reportFile).trim()).toBe(
      `${out.memory.commit} Nightly Brainstorm ${out.date}`,
    );
    const report = readFileSync(out.path, 'utf8');
    expect(report).toContain('1 incident opened, 0 fixed automatically, 1 approved');

    const digest = await eventually('the digest in the digest channel', async () =>
      slack.messages.find((m) => m.channel === DIGEST && !m.threadTs),
    );
    expect(JSON.stringify(digest.blocks)).toContain(`Nightly Brainstorm — ${out.date}`);
    expect(digest.text).toContain('Last 24 h: 1 incident opened, 0 fixed automatically, 1 approved');
    const upload = await eventually('the report uploaded in the digest thread', async () =>
      slack.uploads.find((u) => u.completed !== undefined),
    );
    expect(upload.completed).toMatchObject({ channel_id: DIGEST, thread_ts: digest.ts });
    expect(upload.content).toBe(report);

    // No sweep job ran: the watch opened the incident (the verification runs its check inline).
    const checks = checksQueue({ url: redisUrl() }, prefix);
    try {
      expect(await checks.getJobCounts('waiting', 'active', 'completed', 'failed')).toEqual({
        waiting: 0,
        active: 0,
        completed: 0,
        failed: 0,
      });
    } finally {
      await checks.close();
    }
  }, 60_000);

  it('a certificate 10 days from expiry is renewed by certbot over SSH after a signed approval, installed, verified, and the broken cron is called out', async () => {
    const fingerprint = fingerprintOf('certificate', CERT, 'expiring');
    expect(await servedSerial(ingress, CERT)).toBe(aged.serial);
    const loginsBefore = sshd.logins();

    // The certificate check, in a sweep job as the schedule queues it.
    const checks = checksQueue({ url: redisUrl() }, prefix);
    try {
      await checks.add(SWEEP_JOB, { trigger: 'test', only: CERT });
    } finally {
      await checks.close();
    }
    const asked = await incidentIn(fingerprint, 'awaiting-approval');
    expect(asked).toMatchObject({ severity: 'warning', proposedRunbookId: 'certificate-renewal' });
    expect(asked.facts.daysLeft).toBeGreaterThanOrEqual(9.9);
    expect(asked.facts.daysLeft).toBeLessThan(10.1);
    expect(asked.history.map((h) => h.state)).toEqual(['open', 'diagnosed', 'awaiting-approval']);
    // Nothing touched the certbot host before the approval.
    expect(sshd.logins()).toBe(loginsBefore);

    const message = await approvalMessage(asked);
    expect(message.channel).toBe(ALERTS);
    expect(JSON.stringify(message.blocks)).toContain('certbot renew');
    await clickApprove(message);
    const resolved = await settled(asked.id, 45_000);
    expect(resolved.history.map((h) => h.state)).toEqual([
      'open',
      'diagnosed',
      'awaiting-approval',
      'executing',
      'verifying',
      'resolved',
    ]);

    // certbot ran on `edge` through sshd, and its new certificate is what the ingress serves now.
    expect(sshd.logins()).toBeGreaterThan(loginsBefore);
    const record = (await new ExecutionRecords(redis, prefix).get(asked.id, 'certificate-renewal'))!;
    expect(record).toMatchObject({ state: 'succeeded', by: APPROVER });
    expect(record.steps.map((s) => [s.type, s.ok])).toEqual([
      ['certbot.renew', true],
      ['kubernetes.applyTlsSecret', true],
    ]);
    const renewed = new X509Certificate(
      readFileSync(path.join(certbot.configDir, 'live', CERT, 'cert.pem'), 'utf8'),
    );
    expect(renewed.serialNumber).not.toBe(aged.serial);
    expect(record.steps[0]!.summary).toMatch(
      new RegExp(`^certificate ${CERT.replaceAll('.', '\\.')} on edge renewed: valid until `),
    );
    expect(record.steps[0]!.output).toContain(
      `$ env REQUESTS_CA_BUNDLE=${certbot.caBundle} certbot renew --no-random-sleep-on-renew --cert-name ${CERT}`,
    );
    const secrets = cluster.server.store.typeOf(makeSecret({ name: 'x', data: {} }));
    const data = cluster.server.store.get(secrets, INGRESS, CERT)?.data as Record<string, string>;
    expect(Buffer.from(data['tls.crt']!, 'base64').toString()).toBe(
      readFileSync(path.join(certbot.configDir, 'live', CERT, 'fullchain.pem'), 'utf8'),
    );
    expect(await servedSerial(ingress, CERT)).toBe(renewed.serialNumber);

    const said = `certificate ${CERT} renewed; the renewal cron did not run: fix it`;
    const actions = await auditOf(asked.id);
    expectInOrder(actions, [
      'decision',
      'approval-requested',
      'approval',
      'execution',
      'step',
      'step',
      'execution',
      'escalation',
      'verification',
    ]);
    expect(actions.find((e) => e.action === 'approval')?.actor).toBe(APPROVER);
    expect(actions.filter((e) => e.why === said).map((e) => e.action)).toEqual(['escalation']);
    expect(actions.find((e) => e.action === 'verification')?.why).toBe(
      `the certificate check passed for ${CERT} after runbook certificate-renewal: resolved`,
    );
    const story = await eventually('the thread to say Verified', async () =>
      thread(message).some((t) => t.includes('Verified')) ? thread(message) : undefined,
    );
    expect(story.filter((t) => t.includes(said))).toHaveLength(1);
  }, 60_000);
});

/** `expected` appears in `entries`' actions in this order (other actions may come between). */
function expectInOrder(entries: readonly AuditRecord[], expected: readonly string[]): void {
  const actions = entries.map((e) => e.action);
  let at = 0;
  for (const action of actions) if (action === expected[at]) at++;
  expect(at, `audit actions ${actions.join(', ')} should hold ${expected.join(', ')} in order`).toBe(
    expected.length,
  );
}

/** The serial of the certificate the ingress serves for `name` right now, over a real TLS handshake. */
function servedSerial(ingress: TlsIngress, name: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port: ingress.port,
      servername: name,
      rejectUnauthorized: false,
    });
    socket.once('secureConnect', () => {
      resolve(socket.getPeerX509Certificate()!.serialNumber);
      socket.destroy();
    });
    socket.once('error', reject);
  });
}
