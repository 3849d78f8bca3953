import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { kubernetesApplyTlsSecretExecutor as step } from '../../src/executors/kubernetes-apply-tls-secret.js';
import { makeSecret } from '../fixtures/kube-objects.js';
import { type FakeCluster, startFakeCluster } from '../fixtures/kubeconfig.js';
import { hostEntry, sshdUnavailable, startSshd, type TestSshd } from '../fixtures/sshd.js';
import { bounds, refusal, runStep, stepContext } from '../helpers/step-context.js';
import {
  daysFrom,
  type IssuedCertificate,
  issueCert,
  makeCa,
  makeTempDir,
  removeDir,
} from '../helpers/tls-fixtures.js';

const unavailable = sshdUnavailable();

describe('kubernetes.applyTlsSecret against the fake API server (real certificates)', () => {
  let cluster: FakeCluster;
  let dir: string;
  let renewed: IssuedCertificate;
  let old: IssuedCertificate;
  let other: IssuedCertificate;
  let expired: IssuedCertificate;
  let sshd: TestSshd | undefined;
  const closers: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    cluster = await startFakeCluster();
    dir = await makeTempDir('apply-tls');
    const ca = await makeCa(dir);
    const now = new Date();
    const issue = (cn: string, from: Date, to: Date) =>
      issueCert({ ca, dir, commonName: cn, altNames: [`DNS:${cn}`], notBefore: from, notAfter: to });
    old = await issue('web.example', daysFrom(now, -80), daysFrom(now, 10));
    renewed = await issue('web.example', daysFrom(now, -1), daysFrom(now, 89));
    other = await issue('other.example', daysFrom(now, -1), daysFrom(now, 89));
    expired = await issue('web.example', daysFrom(now, -90), daysFrom(now, -1));
    if (!unavailable) sshd = await startSshd();
  });
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });
  afterAll(async () => {
    await sshd?.stop();
    await cluster?.close();
    if (dir) await removeDir(dir);
  });

  const context = () => {
    const ctx = stepContext({
      config: {
        clusters: { lab: { kubeconfig: cluster.kubeconfig, context: cluster.context } },
        hosts: { self: { local: true }, ...(sshd ? { edge: hostEntry(sshd) } : {}) },
      },
    });
    closers.push(ctx.close);
    return ctx;
  };
  const secrets = () => cluster.server.store.typeOf(makeSecret({ name: 'x', data: {} }));
  const stored = (ns: string, name: string) => cluster.server.store.get(secrets(), ns, name)!;
  const decoded = (ns: string, name: string, key: string) =>
    Buffer.from((stored(ns, name).data as Record<string, string>)[key]!, 'base64').toString();
  const putTls = (ns: string, name: string, extra: Partial<Parameters<typeof makeSecret>[0]> = {}) =>
    cluster.server.store.put(
      makeSecret({
        name,
        namespace: ns,
        type: 'kubernetes.io/tls',
        data: { 'tls.crt': old.cert, 'tls.key': old.key, 'ca.crt': 'CA PEM' },
        annotations: { 'cert-manager.io/issuer': 'none' },
        ...extra,
      }),
    );
  const params = (ns: string, secret: string, cert = renewed, extra: Record<string, unknown> = {}) => ({
    cluster: 'lab',
    namespace: ns,
    secret,
    certFile: cert.certPath,
    keyFile: cert.keyPath,
    ...extra,
  });
  const puts = (ns: string) =>
    cluster.server.requests.filter((r) => r.method === 'PUT' && r.namespace === ns);

  it('replaces tls.crt and tls.key with GET then PUT at the resourceVersion read; reports no key material', async () => {
    const before = putTls('ingress', 'web-tls');
    const p = params('ingress', 'web-tls');
    expect(step.describe(step.schema.parse(p), bounds())).toBe(
      `GET then PUT /api/v1/namespaces/ingress/secrets/web-tls (kubernetes.io/tls, same resourceVersion): tls.crt ← ${renewed.certPath} (on Reef's machine), tls.key ← ${renewed.keyPath} (on Reef's machine) on cluster lab`,
    );
    const result = await runStep(step, p, context());
    expect(result.ok).toBe(true);
    expect(result.summary).toBe(
      `replaced tls.crt and tls.key of Secret ingress/web-tls on cluster lab: CN=web.example, valid until ${renewed.notAfter.toISOString()} (was until ${old.notAfter.toISOString()})`,
    );
    expect(decoded('ingress', 'web-tls', 'tls.crt')).toBe(renewed.cert);
    expect(decoded('ingress', 'web-tls', 'tls.key')).toBe(renewed.key);
    // Everything else is sent back as read.
    expect(decoded('ingress', 'web-tls', 'ca.crt')).toBe('CA PEM');
    expect(stored('ingress', 'web-tls').metadata.annotations).toEqual({ 'cert-manager.io/issuer': 'none' });
    const [put] = puts('ingress');
    expect((put!.body as { metadata: { resourceVersion: string } }).metadata.resourceVersion).toBe(
      before.metadata.resourceVersion,
    );
    expect(result.data).toMatchObject({
      subject: 'CN=web.example',
      notAfter: renewed.notAfter.toISOString(),
    });
    expect(result.output).toMatch(
      /^subject: CN=web\.example\nissuer: O=Reef Tests, CN=Reef Test CA\nnotAfter: .*\nsha256: [0-9A-F:]{95}$/,
    );
    const everything = JSON.stringify(result);
    const keyBody = renewed.key.split('\n')[1]!;
    expect(everything).not.toContain(keyBody);
    expect(everything).not.toContain(Buffer.from(renewed.key).toString('base64').slice(0, 40));
  });

  it('a Secret already holding the pair is left alone: no PUT', async () => {
    putTls('same', 'web-tls', { data: { 'tls.crt': renewed.cert, 'tls.key': renewed.key } });
    const result = await runStep(step, params('same', 'web-tls'), context());
    expect(result).toMatchObject({
      ok: true,
      summary: expect.stringMatching(/already holds this certificate and key/),
    });
    expect(puts('same')).toHaveLength(0);
  });

  it('refuses a Secret of another type, and never creates a missing one', async () => {
    cluster.server.store.put(makeSecret({ name: 'db-creds', namespace: 'typed', data: { password: 'x' } }));
    const opaque = await runStep(step, params('typed', 'db-creds'), context());
    expect(opaque).toEqual({
      ok: false,
      summary:
        'refused: Secret typed/db-creds is of type Opaque, not kubernetes.io/tls; Reef only replaces TLS Secrets',
    });
    expect(decoded('typed', 'db-creds', 'password')).toBe('x');
    const missing = await runStep(step, params('typed', 'nope'), context());
    expect(missing.summary).toBe(
      'Secret typed/nope does not exist on cluster lab; this step never creates one (create it as type kubernetes.io/tls first)',
    );
    expect(puts('typed')).toHaveLength(0);
    expect(cluster.server.count({ method: 'POST', namespace: 'typed' })).toBe(0);
  });

  it('a change between GET and PUT is a 409 Conflict, reported, nothing overwritten', async () => {
    putTls('race', 'web-tls');
    // Someone else writes the Secret after Reef read it: its resourceVersion moves on.
    cluster.server.route('PUT', /^\/api\/v1\/namespaces\/race\/secrets\/web-tls$/, () => {
      cluster.server.store.update(secrets(), 'race', 'web-tls', (s) => {
        (s.metadata as Record<string, unknown>).labels = { touched: 'yes' };
      });
      return false;
    });
    const result = await runStep(step, params('race', 'web-tls'), context());
    expect(result.ok).toBe(false);
    expect(result.summary).toBe(
      'Secret race/web-tls changed while Reef was replacing it (409 Conflict); nothing was written',
    );
    expect(result.output).toMatch(/the object has been modified/);
    expect(decoded('race', 'web-tls', 'tls.crt')).toBe(old.cert);
  });

  it('refuses files that are not a matching, valid certificate and key, before any API call', async () => {
    putTls('bad', 'web-tls');
    const ctx = context();
    const mismatch = await runStep(step, params('bad', 'web-tls', renewed, { keyFile: other.keyPath }), ctx);
    expect(mismatch.summary).toBe(
      `refused: the key in ${other.keyPath} (on Reef's machine) does not belong to the certificate in ${renewed.certPath}; Secret bad/web-tls left as it was`,
    );
    const gone = await runStep(step, params('bad', 'web-tls', expired), ctx);
    expect(gone.summary).toMatch(/^refused: the certificate in .* expired on \d{4}-/);
    const notPem = path.join(dir, 'not-a-key.pem');
    await writeFile(notPem, 'SECRET-LOOKING-CONTENT\n');
    const garbage = await runStep(step, params('bad', 'web-tls', renewed, { keyFile: notPem }), ctx);
    expect(garbage.summary).toBe(
      `refused: ${notPem} (on Reef's machine) holds no PEM private key; Secret bad/web-tls left as it was`,
    );
    expect(JSON.stringify(garbage)).not.toContain('SECRET-LOOKING');
    const missing = await runStep(
      step,
      params('bad', 'web-tls', renewed, { certFile: '/nonexistent/cert.pem' }),
      ctx,
    );
    expect(missing.summary).toMatch(
      /^refused: cannot read \/nonexistent\/cert\.pem \(on Reef's machine\): ENOENT/,
    );
    expect(cluster.server.count({ namespace: 'bad' })).toBe(0);
  });

  it('refuses an immutable Secret', async () => {
    putTls('frozen', 'web-tls', { immutable: true });
    const result = await runStep(step, params('frozen', 'web-tls'), context());
    expect(result).toEqual({
      ok: false,
      summary: 'refused: Secret frozen/web-tls is immutable; replace it by hand',
    });
  });

  it.skipIf(unavailable)('reads the PEM files from a host over SSH (cat -- file)', async () => {
    putTls('remote', 'web-tls');
    const result = await runStep(step, params('remote', 'web-tls', renewed, { host: 'edge' }), context());
    expect(result.ok).toBe(true);
    expect(decoded('remote', 'web-tls', 'tls.crt')).toBe(renewed.cert);
    const missing = await runStep(
      step,
      params('remote', 'web-tls', renewed, { host: 'edge', keyFile: '/nonexistent/k.pem' }),
      context(),
    );
    expect(missing.summary).toMatch(
      /^refused: cannot read edge:\/nonexistent\/k\.pem: cat: \/nonexistent\/k\.pem: No such file/,
    );
  });

  it('refuses bad names and paths in the params', () => {
    const base = {
      cluster: 'lab',
      namespace: 'ingress',
      secret: 'web-tls',
      certFile: '/etc/ssl/a.pem',
      keyFile: '/etc/ssl/a.key',
    };
    expect(refusal(step, base)).toBeUndefined();
    expect(refusal(step, { ...base, secret: 'Web TLS' })).toMatch(
      /^secret: "Web TLS" is not a valid Kubernetes name/,
    );
    expect(refusal(step, { ...base, certFile: '/etc/letsencrypt/../shadow' })).toMatch(
      /contains a "\.\." segment/,
    );
    expect(refusal(step, { ...base, keyFile: 'privkey.pem' })).toMatch(/is not an absolute path/);
    expect(refusal(step, { ...base, keyFile: '/etc/$(id).pem' })).toMatch(/contains a shell metacharacter/);
    expect(refusal(step, { ...base, host: 'edge;x' })).toMatch(/^host: must be a name from reef\.yaml/);
  });
});
