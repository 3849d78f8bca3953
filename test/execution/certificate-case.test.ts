import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import tls from 'node:tls';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/adapters/clock.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { runSweep } from '../../src/checks/sweep.js';
import { configSchema, type ReefConfig } from '../../src/config/schema.js';
import { EventBus } from '../../src/events/event-bus.js';
import type { IncidentEvent } from '../../src/events/incident-event.js';
import { type DecideDeps, decideOpened } from '../../src/execution/decide.js';
import type { ExecutionDeps } from '../../src/execution/deps.js';
import { ExecutionRecords } from '../../src/execution/execution-record.js';
import { executionsQueue } from '../../src/execution/queue.js';
import { startExecutionWorker } from '../../src/execution/worker.js';
import { fingerprintOf } from '../../src/findings/finding.js';
import type { Incident } from '../../src/incidents/incident.js';
import { IncidentStore } from '../../src/incidents/store.js';
import { IncidentTracker } from '../../src/incidents/tracker.js';
import { loadCatalog } from '../../src/runbooks/catalog.js';
import { BUNDLED_RUNBOOKS_DIR } from '../../src/runbooks/location.js';
import { createCheckContext } from '../../src/runtime/check-context.js';
import { ConsoleSurface } from '../../src/surfaces/console.js';
import {
  ageLineage,
  type CertbotHost,
  certbotDirArgs,
  certbotHost,
  issueLineage,
  renewLineage,
} from '../fixtures/certbot-lineage.js';
import { makeSecret } from '../fixtures/kube-objects.js';
import { type FakeCluster, startFakeCluster } from '../fixtures/kubeconfig.js';
import {
  freePort,
  pebbleIssuer,
  pebbleUnavailable,
  startPebble,
  type TestPebble,
} from '../fixtures/pebble.js';
import { startTlsIngress, type TlsIngress } from '../fixtures/tls-ingress.js';
import { eventually } from '../helpers/eventually.js';
import { connect, dropPrefix, redisUrl, uniquePrefix } from '../helpers/redis.js';

const NAMESPACE = 'ingress';
const RUNBOOK = 'certificate-renewal';

/**
 * The bundled certificate-renewal runbook adapted to this test's site, as its prose asks of every site:
 * the certbot host `edge` becomes `self` (this machine), the cluster `home` the fake one, and certbot's
 * /etc/letsencrypt the test's directories (with its standalone port on loopback and pebble's CA bundle).
 * Steps, templates, limits and the escalation message stay as shipped; the mode becomes auto and the
 * verification delay one second.
 */
function adapted(host: CertbotHost): string {
  const text = readFileSync(path.join(BUNDLED_RUNBOOKS_DIR, `${RUNBOOK}.md`), 'utf8');
  const end = text.indexOf('\n---', 4);
  const args = JSON.stringify(certbotDirArgs(host));
  const front = text
    .slice(0, end)
    .replace(/^mode: \w+$/m, 'mode: auto')
    .replace(/^verify: .*$/m, 'verify: { after: 1s }')
    .replace(/^( +)host: edge$/gm, '$1host: self')
    .replace(/^( +)cluster: home$/m, '$1cluster: lab')
    .replace(
      /^( +)certName: "\{\{target\}\}"$/m,
      `$&\n$1args: ${args}\n$1env: { REQUESTS_CA_BUNDLE: ${JSON.stringify(host.caBundle)} }`,
    )
    .replaceAll('/etc/letsencrypt/', `${host.configDir}/`);
  return front + text.slice(end);
}

const unavailable =
  pebbleUnavailable() ?? (existsSync('/usr/bin/certbot') ? undefined : '/usr/bin/certbot is missing');
if (unavailable) console.warn(`skipping the certificate execution test: ${unavailable}`);

/**
 * The seed's certificate case end to end: an ingress (a TLS server serving its Kubernetes Secret) whose
 * certificate expires in 10 days → the certificate check opens `expiring` → decision (auto) → the worker
 * runs the real certbot against a local pebble, then puts the renewed certificate into the Secret through
 * the Kubernetes API stand-in → verification connects again, sees the new certificate, resolves → the
 * operator is told "renewed; the renewal cron did not run: fix it".
 */
describe.skipIf(unavailable)('a certificate 10 days from expiry renewed, applied and verified', () => {
  const SHOP = 'shop.reef-test.example';
  const BLOG = 'blog.reef-test.example';
  const CRON = 'cron.reef-test.example';
  let cluster: FakeCluster;
  let ingress: TlsIngress;
  /** Each certificate's site; set up side by side (certbot's issuance mostly waits on ACME polling). */
  const sites = {} as Record<typeof SHOP | typeof BLOG | typeof CRON, Site>;
  /** Stopped after all tests (the sites), and after each test (its worker). */
  const siteClosers: (() => Promise<unknown>)[] = [];
  const closers: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    cluster = await startFakeCluster();
    ingress = await startTlsIngress(cluster.server, NAMESPACE);
    [sites[SHOP], sites[BLOG], sites[CRON]] = await Promise.all([site(SHOP), site(BLOG), site(CRON)]);
  }, 60_000);
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });
  afterAll(async () => {
    for (const close of siteClosers.splice(0).reverse()) await close();
    await ingress?.close();
    await cluster?.close();
  });

  const secrets = () => cluster.server.store.typeOf(makeSecret({ name: 'x', data: {} }));
  const secretData = (name: string) =>
    cluster.server.store.get(secrets(), NAMESPACE, name)?.data as Record<string, string>;
  const decoded = (name: string, key: string) => Buffer.from(secretData(name)[key]!, 'base64').toString();

  /**
   * One incident's world: a pebble, a certbot host holding an aged lineage `name`, the ingress's Secret
   * with that certificate, the adapted runbook, and Reef's parts on a fresh Redis prefix.
   */
  async function site(name: string) {
    const dir = await mkdtemp(path.join(tmpdir(), 'reef-cert-case-'));
    siteClosers.push(() => rm(dir, { recursive: true, force: true }));
    const pebble: TestPebble = await startPebble();
    let pebbleRunning = true;
    const stopPebble = async () => {
      if (pebbleRunning) await pebble.stop();
      pebbleRunning = false;
    };
    siteClosers.push(stopPebble);
    const host = await certbotHost(dir, pebble, await freePort());
    await issueLineage(host, pebble, name);
    const issuer = await pebbleIssuer(pebble);
    const aged = await ageLineage(host, name, issuer, dir, 10);
    cluster.server.store.put(
      makeSecret({
        name,
        namespace: NAMESPACE,
        type: 'kubernetes.io/tls',
        data: { 'tls.crt': aged.fullchain, 'tls.key': aged.key },
      }),
    );
    siteClosers.push(async () => cluster.server.store.remove(secrets(), NAMESPACE, name));

    const caFile = path.join(dir, 'pebble-root.pem');
    await writeFile(caFile, issuer.root);
    const runbooks = path.join(dir, 'runbooks');
    await mkdir(runbooks);
    await writeFile(path.join(runbooks, `${RUNBOOK}.md`), adapted(host));
    const catalog = loadCatalog(runbooks);
    expect([...catalog.errors, ...catalog.warnings]).toEqual([]);

    const redis: Redis = connect();
    const prefix = uniquePrefix('certcase');
    siteClosers.push(async () => {
      await dropPrefix(redis, prefix);
      redis.disconnect();
    });
    const config: ReefConfig = configSchema.parse({
      redis: { prefix },
      hosts: { self: { local: true } },
      clusters: { lab: { kubeconfig: cluster.kubeconfig, context: cluster.context } },
      checks: { certificates: [{ name, url: ingress.url, servername: name, caFile, warnDays: 14 }] },
    });
    const store = new IncidentStore(redis, prefix);
    const tracker = new IncidentTracker(store, systemClock);
    const audit = new AuditLog(redis, prefix, { clock: systemClock });
    const bus = new EventBus(redis, prefix);
    const queue = executionsQueue({ url: redisUrl() }, prefix);
    siteClosers.push(() => queue.close());
    const deps: ExecutionDeps = {
      config,
      clock: systemClock,
      store,
      tracker,
      bus,
      audit,
      catalog,
      redis,
      prefix,
      dryRun: false,
      queue,
    };
    const decideDeps: DecideDeps = { catalog, store, bus, audit, clock: systemClock, queue };

    return {
      host,
      aged,
      deps,
      stopPebble,
      /** A sweep of the real certificate check through the real tracker; the opened incident is decided. */
      async sweepAndDecide(): Promise<Incident> {
        const { context, close } = createCheckContext(config, { clock: systemClock });
        try {
          const run = await runSweep(config, context, { only: name });
          expect(run.errors).toEqual([]);
          const events = await tracker.ingest({ outcomes: run.outcomes, only: run.only }, config);
          await decideOpened(events, decideDeps);
        } finally {
          await close();
        }
        return (await store.currentFor(fingerprintOf('certificate', name, 'expiring')))!;
      },
      /** Runs the execution worker until the incident settles (resolved or escalated). */
      async settle(incident: Incident): Promise<Incident> {
        const worker = startExecutionWorker(deps, { connection: { url: redisUrl() } });
        closers.push(() => worker.stop());
        return eventually(
          'the incident to settle',
          async () => {
            const now = await store.get(incident.id);
            return now?.state === 'resolved' || now?.state === 'escalated' ? now : undefined;
          },
          45_000,
        );
      },
      record: async (incident: Incident) =>
        (await new ExecutionRecords(redis, prefix).get(incident.id, RUNBOOK))!,
      /** The events the surfaces get, as the console prints them. */
      async consoleLines(): Promise<string[]> {
        const surface = new ConsoleSurface(new PassThrough(), 'UTC', false);
        return (await redis.xrange(`${prefix}:events`, '-', '+')).map(([, fields]) =>
          surface.render(JSON.parse(fields[1]!) as IncidentEvent),
        );
      },
    };
  }

  type Site = Awaited<ReturnType<typeof site>>;

  /** The serial of the certificate the ingress serves for `name` right now, over a real TLS handshake. */
  const servedSerial = (name: string) =>
    new Promise<string>((resolve, reject) => {
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

  it('renews with certbot, applies the Secret, verifies the endpoint, resolves, and says the cron is broken', async () => {
    const name = SHOP;
    const s = sites[name];
    expect(await servedSerial(name)).toBe(s.aged.serial);

    const incident = await s.sweepAndDecide();
    expect(incident).toMatchObject({ state: 'open', severity: 'warning', condition: 'expiring' });
    expect(incident.facts.daysLeft).toBeGreaterThanOrEqual(9.9);
    expect(incident.facts.daysLeft).toBeLessThan(10.1);
    expect(incident.facts.authorized).toBe(true);

    const done = await s.settle(incident);
    expect(done.history.map((e) => e.state)).toEqual(['open', 'executing', 'verifying', 'resolved']);

    const record = await s.record(incident);
    expect(record.state).toBe('succeeded');
    expect(record.steps.map((st) => [st.type, st.ok])).toEqual([
      ['certbot.renew', true],
      ['kubernetes.applyTlsSecret', true],
    ]);
    // certbot renewed on its own judgement (no --force-renewal): the lineage was due.
    const renewed = new X509Certificate(
      await readFile(path.join(s.host.configDir, 'live', name, 'cert.pem'), 'utf8'),
    );
    expect(renewed.serialNumber).not.toBe(s.aged.serial);
    const certbotStep = record.steps[0]!;
    expect(certbotStep.summary).toMatch(
      new RegExp(
        `^certificate ${name.replace(/\./g, '\\.')} on self renewed: valid until .* \\(\\d+ days left\\)$`,
      ),
    );
    expect(certbotStep.description).toContain(`certbot renew --no-random-sleep-on-renew --cert-name ${name}`);
    expect(certbotStep.description).not.toContain('--force-renewal');
    expect(certbotStep.data).toMatchObject({
      renewed: true,
      serial: renewed.serialNumber,
      previousNotAfter: s.aged.notAfter.toISOString(),
    });
    expect(Number(certbotStep.data?.daysLeft)).toBeGreaterThan(14);

    // The Secret holds certbot's new fullchain and key, written once through the API.
    const fullchain = await readFile(path.join(s.host.configDir, 'live', name, 'fullchain.pem'), 'utf8');
    expect(decoded(name, 'tls.crt')).toBe(fullchain);
    expect(decoded(name, 'tls.key')).toBe(
      await readFile(path.join(s.host.configDir, 'live', name, 'privkey.pem'), 'utf8'),
    );
    expect(cluster.server.count({ method: 'PUT', resource: 'secrets', namespace: NAMESPACE, name })).toBe(1);
    expect(record.steps[1]!.summary).toMatch(
      new RegExp(
        `^replaced tls\\.crt and tls\\.key of Secret ${NAMESPACE}/${name.replace(/\./g, '\\.')} on cluster lab: .*\\(was until ${s.aged.notAfter.toISOString()}\\)$`,
      ),
    );

    // The endpoint serves it now: what verification saw, and what any client sees.
    expect(await servedSerial(name)).toBe(renewed.serialNumber);
    // Handshakes for this name: ours, the sweep's (old certificate), verification's and ours (new one).
    expect(ingress.served.filter((h) => h.servername === name).map((h) => h.serial)).toEqual([
      s.aged.serial,
      s.aged.serial,
      renewed.serialNumber,
      renewed.serialNumber,
    ]);
    const audit = await s.deps.audit.read({ incidentId: incident.id });
    expect(audit.find((e) => e.action === 'verification')?.why).toBe(
      `the certificate check passed for ${name} after runbook ${RUNBOOK}: resolved`,
    );

    // "renewed; the renewal cron did not run: fix it": audited once the steps succeeded, and told.
    const message = `certificate ${name} renewed; the renewal cron did not run: fix it`;
    const actions = audit.map((e) => [e.action, e.why]);
    const said = actions.findIndex(([a, why]) => a === 'escalation' && why === message);
    expect(said).toBeGreaterThan(actions.findLastIndex(([a]) => a === 'step'));
    expect(actions.filter(([, why]) => why === message)).toHaveLength(1);
    const lines = await s.consoleLines();
    expect(lines.find((l) => l.includes('VERIFYING'))).toContain(`— ${message}`);
    expect(lines.filter((l) => l.includes(message))).toHaveLength(1);
    expect(lines.some((l) => l.includes(`VERIFIED #${incident.id} certificate/${name}`))).toBe(true);
  });

  it('the cron did renew but the Secret was stale: certbot finds it not due, the Secret is applied, and "renewed; the cron did not run" is not said', async () => {
    const name = CRON;
    const s = sites[name];
    // The renewal cron worked: the lineage is fresh. The ingress's Secret still holds the aged certificate.
    await renewLineage(s.host, name);
    const fresh = new X509Certificate(
      await readFile(path.join(s.host.configDir, 'live', name, 'cert.pem'), 'utf8'),
    );
    expect(await servedSerial(name)).toBe(s.aged.serial);

    const incident = await s.sweepAndDecide();
    const done = await s.settle(incident);
    expect(done.state).toBe('resolved');
    const record = await s.record(incident);
    expect(record.steps[0]).toMatchObject({
      type: 'certbot.renew',
      ok: true,
      summary: expect.stringMatching(/unchanged \(certbot found it not due\)/),
      data: expect.objectContaining({ renewed: false, changed: false }),
    });
    expect(await servedSerial(name)).toBe(fresh.serialNumber);
    expect(record.escalationMessage).toBeUndefined();
    const audit = await s.deps.audit.read({ incidentId: incident.id });
    expect(audit.some((e) => e.why.includes('renewal cron did not run'))).toBe(false);
    expect((await s.consoleLines()).some((l) => l.includes('renewal cron did not run'))).toBe(false);
  });

  it('certbot failing (pebble down): escalated with certbot’s output, the Secret untouched, no "renewed"', async () => {
    const name = BLOG;
    const s = sites[name];
    const before = { ...secretData(name) };
    await s.stopPebble();

    const incident = await s.sweepAndDecide();
    expect(incident).toMatchObject({ state: 'open', condition: 'expiring' });
    const done = await s.settle(incident);
    expect(done.history.map((e) => e.state)).toEqual(['open', 'executing', 'escalated']);

    const record = await s.record(incident);
    expect(record.state).toBe('failed');
    // The second step never ran: nothing was read from the lineage or written to the Secret.
    expect(record.steps.map((st) => [st.type, st.ok])).toEqual([['certbot.renew', false]]);
    const step = record.steps[0]!;
    expect(step.summary).toMatch(/^certbot on self failed \(exit 1\): .+/);
    expect(step.output).toContain(`$ env REQUESTS_CA_BUNDLE=${s.host.caBundle} certbot renew`);
    expect(step.output).toContain('All renewals failed');
    expect(step.output).toContain('(exit 1)');
    // The line that says why is in the summary, and so in the escalation a human reads.
    expect(step.summary).toContain(`Failed to renew certificate ${name} with error:`);
    expect(step.summary).toContain('Connection refused');

    const note = done.history.at(-1)!.note!;
    expect(note).toBe(`runbook ${RUNBOOK}: step 1 (certbot.renew) failed: ${step.summary}; not retried`);
    const audit = await s.deps.audit.read({ incidentId: incident.id });
    const failedStep = audit.find((e) => e.action === 'step');
    expect(failedStep?.why).toBe(`failed: ${step.summary}`);
    expect(failedStep?.outputDigest).toEqual(expect.any(String));

    expect(secretData(name)).toEqual(before);
    expect(cluster.server.count({ resource: 'secrets', namespace: NAMESPACE, name })).toBe(0);
    expect(await servedSerial(name)).toBe(s.aged.serial);

    // Nobody is told it was renewed.
    expect(audit.some((e) => e.why.includes('renewed;'))).toBe(false);
    const lines = await s.consoleLines();
    expect(lines.some((l) => l.includes('renewed;'))).toBe(false);
    expect(lines.find((l) => l.includes('ESCALATED'))).toContain('step 1 (certbot.renew) failed');
  });
});
