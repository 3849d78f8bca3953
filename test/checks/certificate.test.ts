import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpClient, type HttpClient } from '../../src/adapters/http-client.js';
import { certificateCheck } from '../../src/checks/certificate.js';
import type { CheckContext } from '../../src/checks/check.js';
import { runSweep } from '../../src/checks/sweep.js';
import { certificateTargetSchema, configSchema } from '../../src/config/schema.js';
import type { Finding } from '../../src/findings/finding.js';
import { testContext } from '../helpers/context.js';
import { closedPort } from '../helpers/http-server.js';
import {
  type CertificateAuthority,
  daysFrom,
  type IssuedCertificate,
  issueCert,
  makeCa,
  makeTempDir,
  removeDir,
  startTlsServer,
  type TlsServerOptions,
  type TlsTestServer,
} from '../helpers/tls-fixtures.js';

const CA_DN = 'CN=Reef Test CA, O=Reef Tests';
/** Node's X509Certificate spells `IP:` as `IP Address:`. */
const LOCAL_ALT_NAMES = ['DNS:localhost', 'IP Address:127.0.0.1'];

let dir: string;
let ca: CertificateAuthority;
let http: HttpClient;
let context: CheckContext;
const servers: TlsTestServer[] = [];

beforeAll(async () => {
  dir = await makeTempDir('cert-check');
  ca = await makeCa(dir);
  http = createHttpClient();
  context = testContext({ http });
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await http?.close();
  if (dir) await removeDir(dir);
});

/** A certificate for localhost/127.0.0.1 (unless told otherwise) expiring `days` from now. */
function localCert(
  days: number,
  overrides: { commonName?: string; altNames?: string[] } = {},
): Promise<IssuedCertificate> {
  const now = new Date();
  return issueCert({
    ca,
    dir,
    commonName: overrides.commonName ?? 'localhost',
    altNames: overrides.altNames ?? ['DNS:localhost', 'IP:127.0.0.1'],
    notBefore: daysFrom(now, -30),
    notAfter: daysFrom(now, days),
  });
}

async function serve(options: TlsServerOptions): Promise<TlsTestServer> {
  const server = await startTlsServer(options);
  servers.push(server);
  return server;
}

function target(fields: Record<string, unknown>) {
  return certificateTargetSchema.parse({ name: 'site', ...fields });
}

function only(findings: Finding[]): Finding {
  expect(findings).toHaveLength(1);
  return findings[0]!;
}

/** daysLeft is floored to tenths and read a moment after the certificate was made. */
function expectDaysLeft(finding: Finding, days: number): void {
  expect(finding.facts.daysLeft).toBeTypeOf('number');
  expect(finding.facts.daysLeft as number).toBeGreaterThanOrEqual(days - 0.2);
  expect(finding.facts.daysLeft as number).toBeLessThanOrEqual(days);
}

function expectCertFacts(finding: Finding, cert: IssuedCertificate, subject = 'CN=localhost'): void {
  expect(finding.facts).toMatchObject({
    notAfter: cert.notAfter.toISOString(),
    notBefore: cert.notBefore.toISOString(),
    issuer: CA_DN,
    subject,
  });
}

describe('certificateCheck.probe against a real TLS server', () => {
  it('reports one ok finding for a certificate valid 60 more days from a trusted CA', async () => {
    const cert = await localCert(60);
    const server = await serve(cert);

    const finding = only(
      await certificateCheck.probe(target({ url: server.url, caFile: ca.certPath }), context),
    );

    expect(finding).toMatchObject({ check: 'certificate', target: 'site', condition: 'ok', severity: 'ok' });
    expectDaysLeft(finding, 60);
    expectCertFacts(finding, cert);
    expect(finding.facts.altNames).toEqual(LOCAL_ALT_NAMES);
    expect(finding.facts).toMatchObject({ authorized: true, authorizationError: null, url: server.url });
  });

  it.each([
    { days: 10, severity: 'warning' },
    { days: 2, severity: 'critical' },
  ])('reports a certificate expiring in $days days as expiring/$severity', async ({ days, severity }) => {
    const cert = await localCert(days);
    const server = await serve(cert);

    const finding = only(
      await certificateCheck.probe(target({ url: server.url, caFile: ca.certPath }), context),
    );

    expect(finding).toMatchObject({ condition: 'expiring', severity });
    expectDaysLeft(finding, days);
    expectCertFacts(finding, cert);
    expect(finding.facts.altNames).toEqual(LOCAL_ALT_NAMES);
    expect(finding.facts.authorized).toBe(true);
  });

  it('reports a certificate that expired yesterday as expired/critical, not also untrusted', async () => {
    const cert = await localCert(-1);
    const server = await serve(cert);

    const finding = only(
      await certificateCheck.probe(target({ url: server.url, caFile: ca.certPath }), context),
    );

    expect(finding).toMatchObject({ condition: 'expired', severity: 'critical' });
    expectDaysLeft(finding, -1);
    expectCertFacts(finding, cert);
    expect(finding.facts.altNames).toEqual(LOCAL_ALT_NAMES);
    expect(finding.facts).toMatchObject({ authorized: false, authorizationError: 'CERT_HAS_EXPIRED' });
  });

  it('reports a trusted certificate for another name only as hostname-mismatch', async () => {
    const cert = await localCert(60, { commonName: 'other.example', altNames: ['DNS:other.example'] });
    const server = await serve(cert);

    const findings = await certificateCheck.probe(target({ url: server.url, caFile: ca.certPath }), context);

    const finding = only(findings);
    expect(finding).toMatchObject({ condition: 'hostname-mismatch', severity: 'warning' });
    expect(finding.summary).toContain('"127.0.0.1"');
    expectDaysLeft(finding, 60);
    expectCertFacts(finding, cert, 'CN=other.example');
    expect(finding.facts.altNames).toEqual(['DNS:other.example']);
  });

  it('reports an untrusted chain as untrusted/warning and still reads the certificate', async () => {
    const cert = await localCert(60);
    const server = await serve(cert);

    const finding = only(await certificateCheck.probe(target({ url: server.url }), context));

    expect(finding).toMatchObject({ condition: 'untrusted', severity: 'warning' });
    expect(finding.summary).toContain('set caFile');
    expectDaysLeft(finding, 60);
    expectCertFacts(finding, cert);
    expect(finding.facts.altNames).toEqual(LOCAL_ALT_NAMES);
    expect(finding.facts).toMatchObject({
      authorized: false,
      authorizationError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
  });

  it('reports a refused connection as an unreachable/critical finding instead of throwing', async () => {
    const port = await closedPort();
    const url = `https://127.0.0.1:${port}`;

    const finding = only(await certificateCheck.probe(target({ url, caFile: ca.certPath }), context));

    expect(finding).toMatchObject({ condition: 'unreachable', severity: 'critical' });
    expect(finding.facts).toMatchObject({ url, host: '127.0.0.1', port, code: 'ECONNREFUSED' });
  });
});

describe('certificateCheck SNI', () => {
  let byName: { fallback: IssuedCertificate; localhost: IssuedCertificate; other: IssuedCertificate };

  beforeAll(async () => {
    const [fallback, localhost, other] = await Promise.all([
      localCert(90, { commonName: 'reef-default', altNames: ['IP:127.0.0.1'] }),
      localCert(60, { commonName: 'localhost', altNames: ['DNS:localhost'] }),
      localCert(45, { commonName: 'other.example', altNames: ['DNS:other.example'] }),
    ]);
    byName = { fallback, localhost, other };
  });

  function serveByName(): Promise<TlsTestServer> {
    return serve({
      ...byName.fallback,
      sni: { localhost: byName.localhost, 'other.example': byName.other },
    });
  }

  it('sends the URL host as SNI and checks the certificate served for it', async () => {
    const server = await serveByName();
    const url = `https://localhost:${server.port}`;

    const finding = only(await certificateCheck.probe(target({ url, caFile: ca.certPath }), context));

    expect(server.servernamesSeen).toEqual(['localhost']);
    expect(finding).toMatchObject({ condition: 'ok', severity: 'ok' });
    expectDaysLeft(finding, 60);
    expectCertFacts(finding, byName.localhost, 'CN=localhost');
    expect(finding.facts.altNames).toEqual(['DNS:localhost']);
  });

  it('sends no SNI for an IP host and checks the default certificate', async () => {
    const server = await serveByName();

    const finding = only(
      await certificateCheck.probe(target({ url: server.url, caFile: ca.certPath }), context),
    );

    await server.waitForHandshakes(1);
    expect(server.handshakes).toBe(1);
    expect(server.servernamesSeen).toEqual([]);
    expect(finding).toMatchObject({ condition: 'ok', severity: 'ok' });
    expectDaysLeft(finding, 90);
    expectCertFacts(finding, byName.fallback, 'CN=reef-default');
    expect(finding.facts.altNames).toEqual(['IP Address:127.0.0.1']);
  });

  it('sends the configured servername and checks the name against it', async () => {
    const server = await serveByName();

    const finding = only(
      await certificateCheck.probe(
        target({ url: server.url, servername: 'other.example', caFile: ca.certPath }),
        context,
      ),
    );

    expect(server.servernamesSeen).toEqual(['other.example']);
    expect(finding).toMatchObject({ condition: 'ok', severity: 'ok' });
    expectDaysLeft(finding, 45);
    expectCertFacts(finding, byName.other, 'CN=other.example');
    expect(finding.facts.altNames).toEqual(['DNS:other.example']);
  });
});

describe('certificateCheck thresholds and fingerprints', () => {
  it('warns under a custom warnDays, and keeps one fingerprint per target and condition', async () => {
    const cert = await localCert(20);
    const server = await serve(cert);
    const custom = target({ url: server.url, caFile: ca.certPath, warnDays: 30 });
    const defaults = target({ url: server.url, caFile: ca.certPath });

    const first = only(await certificateCheck.probe(custom, context));
    const second = only(await certificateCheck.probe(custom, context));
    const healthy = only(await certificateCheck.probe(defaults, context));

    expect(first).toMatchObject({ condition: 'expiring', severity: 'warning' });
    expectDaysLeft(first, 20);
    expectCertFacts(first, cert);
    expect(first.facts.altNames).toEqual(LOCAL_ALT_NAMES);
    expect(healthy).toMatchObject({ condition: 'ok', severity: 'ok' });
    expect(first.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(second.fingerprint).toBe(first.fingerprint);
    expect(healthy.fingerprint).not.toBe(first.fingerprint);
  });
});

describe('certificate targets in a sweep', () => {
  it('reports an unreadable caFile as a check error and still checks the healthy target', async () => {
    const cert = await localCert(60);
    const server = await serve(cert);
    const missing = `${dir}/no-such-ca.pem`;
    const config = configSchema.parse({
      checks: {
        certificates: [
          { name: 'broken', url: server.url, caFile: missing },
          { name: 'healthy', url: server.url, caFile: ca.certPath },
        ],
      },
    });

    const result = await runSweep(config, context);

    expect(result.probed).toBe(2);
    expect(result.errors).toEqual([
      {
        check: 'certificate',
        target: 'broken',
        message: expect.stringContaining(`cannot read caFile ${missing}`),
      },
    ]);
    expect(result.findings).toHaveLength(1);
    const finding = result.findings[0]!;
    expect(finding).toMatchObject({
      check: 'certificate',
      target: 'healthy',
      condition: 'ok',
      severity: 'ok',
    });
    expectDaysLeft(finding, 60);
    expectCertFacts(finding, cert);
    expect(finding.facts.altNames).toEqual(LOCAL_ALT_NAMES);
  });
});
