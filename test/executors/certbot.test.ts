import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certbotRenewExecutor } from '../../src/executors/certbot-renew.js';
import { freePort, pebbleUnavailable, startPebble, type TestPebble } from '../fixtures/pebble.js';
import { refusal, runStep, stepContext } from '../helpers/step-context.js';

const DAY_MS = 86_400_000;

describe('certbot.renew parameters (no certbot run)', () => {
  const base = { host: 'box', domains: ['www.example.org'] };

  it('builds the exact argv: certonly with domains, renew without', () => {
    expect(
      certbotRenewExecutor.describe(
        {
          ...base,
          args: [
            '--server',
            'https://acme.example/dir',
            '--config-dir=/srv/le',
            '--webroot',
            '-w',
            '/var/www',
          ],
          env: { REQUESTS_CA_BUNDLE: '/etc/ssl/private-ca.pem' },
        },
        undefined as never,
      ),
    ).toBe(
      'on box: env REQUESTS_CA_BUNDLE=/etc/ssl/private-ca.pem certbot certonly --cert-name www.example.org ' +
        '-d www.example.org --non-interactive --server https://acme.example/dir --config-dir=/srv/le --webroot -w /var/www',
    );
    expect(
      certbotRenewExecutor.describe({ host: 'box', certName: 'web', args: ['-n'] }, undefined as never),
    ).toBe('on box: certbot renew --no-random-sleep-on-renew --cert-name web -n');
    expect(certbotRenewExecutor.mutates).toBe(true);
  });

  it('refuses flags outside the allowlist and bad values, saying which and why', () => {
    expect(refusal(certbotRenewExecutor, { ...base, args: ['--deploy-hook', 'touch /tmp/x'] })).toMatch(
      /"--deploy-hook" is not an allowed certbot flag/,
    );
    expect(refusal(certbotRenewExecutor, { ...base, args: ['--manual-auth-hook=/bin/sh'] })).toMatch(
      /not an allowed certbot flag/,
    );
    expect(refusal(certbotRenewExecutor, { ...base, args: ['-d', 'evil.example'] })).toMatch(
      /under domains:/,
    );
    expect(refusal(certbotRenewExecutor, { ...base, args: ['--config-dir', 'relative/dir'] })).toMatch(
      /--config-dir must be an absolute path/,
    );
    expect(refusal(certbotRenewExecutor, { ...base, args: ['--logs-dir', '/var/log/../../etc'] })).toMatch(
      /without "\.\."/,
    );
    expect(refusal(certbotRenewExecutor, { ...base, args: ['--server', 'http://acme.example/dir'] })).toMatch(
      /https:\/\//,
    );
    expect(refusal(certbotRenewExecutor, { ...base, args: ['--http-01-port'] })).toMatch(/needs a value/);
    expect(refusal(certbotRenewExecutor, { ...base, args: ['--force-renewal=yes'] })).toMatch(
      /not an allowed/,
    );
    expect(refusal(certbotRenewExecutor, { ...base, env: { PATH: '/tmp/evil' } })).toBeDefined();
    expect(refusal(certbotRenewExecutor, { ...base, domains: ['a.example; rm -rf /'] })).toMatch(/DNS name/);
    expect(refusal(certbotRenewExecutor, { host: 'box' })).toMatch(/give certName .* or domains/);
    expect(refusal(certbotRenewExecutor, { host: 'box', certName: 'a', args: ['--cert-name', 'b'] })).toMatch(
      /contradicts/,
    );
    expect(refusal(certbotRenewExecutor, { host: '../box', certName: 'a' })).toBeDefined();
    expect(
      refusal(certbotRenewExecutor, {
        ...base,
        args: ['--standalone', '--http-01-port', '8080', '--key-type', 'ecdsa', '-m', 'ops@example.org'],
      }),
    ).toBeUndefined();
  });
});

const unavailable =
  pebbleUnavailable() ?? (existsSync('/usr/bin/certbot') ? undefined : 'certbot is missing');
if (unavailable) console.warn(`skipping certbot tests: ${unavailable}`);

describe.skipIf(unavailable)('certbot.renew against a real pebble ACME server', () => {
  let pebble: TestPebble;
  let dir: string;
  let context: ReturnType<typeof stepContext>;
  let common: string[];
  let env: { REQUESTS_CA_BUNDLE: string };
  const name = 'reef-test.example';
  let issuedSerial: string;

  beforeAll(async () => {
    const httpPort = await freePort();
    pebble = await startPebble({ httpPort });
    dir = await mkdtemp(path.join(tmpdir(), 'reef-test-certbot-'));
    // A fresh certbot state per run: pebble forgets its accounts when it stops.
    common = [
      '--server',
      pebble.directoryUrl,
      '--config-dir',
      path.join(dir, 'config'),
      '--work-dir',
      path.join(dir, 'work'),
      '--logs-dir',
      path.join(dir, 'logs'),
    ];
    env = { REQUESTS_CA_BUNDLE: pebble.caCertPath };
    context = stepContext({ config: { hosts: { box: { local: true } } } });
    // certbot's standalone server binds this port (on loopback) even though pebble never connects to it.
    common.push('--http-01-port', String(httpPort), '--http-01-address', '127.0.0.1');
  });

  afterAll(async () => {
    await context?.close();
    await pebble?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('issues a certificate and returns where it is and when it expires', async () => {
    const result = await runStep(
      certbotRenewExecutor,
      {
        host: 'box',
        domains: [name],
        args: [...common, '--standalone', '--agree-tos', '--register-unsafely-without-email'],
        env,
      },
      context,
    );
    expect(result.ok, `${result.summary}\n${result.output}`).toBe(true);
    const live = path.join(dir, 'config', 'live', name);
    expect(result.data).toMatchObject({
      certName: name,
      renewed: true,
      certPath: path.join(live, 'cert.pem'),
      fullchainPath: path.join(live, 'fullchain.pem'),
      keyPath: path.join(live, 'privkey.pem'),
    });
    const cert = new X509Certificate(await readFile(path.join(live, 'cert.pem')));
    expect(cert.subjectAltName).toBe(`DNS:${name}`);
    const notAfter = new Date(String(result.data?.notAfter));
    expect(notAfter.getTime()).toBe(new Date(cert.validTo).getTime());
    // Pebble here issues for 90 days.
    expect(Math.abs(notAfter.getTime() - Date.now() - 90 * DAY_MS)).toBeLessThan(DAY_MS);
    expect(result.data?.daysLeft).toBeGreaterThanOrEqual(89);
    expect(result.data?.daysLeft).toBeLessThanOrEqual(90);
    expect(result.summary).toMatch(
      new RegExp(`certificate ${name} on box issued: valid until .* \\(\\d+ days left\\)`),
    );
    expect(result.output).toContain('Successfully received certificate');
    expect(result.output).not.toMatch(/PRIVATE KEY/);
    issuedSerial = cert.serialNumber;
    expect(result.data?.serial).toBe(issuedSerial);
  });

  it('leaves a certificate that is not due alone (certbot renew, no --force-renewal)', async () => {
    const result = await runStep(
      certbotRenewExecutor,
      { host: 'box', certName: name, args: common, env },
      context,
    );
    expect(result.ok, result.output).toBe(true);
    expect(result.data).toMatchObject({ renewed: false, serial: issuedSerial });
    expect(result.summary).toContain('unchanged (certbot found it not due)');
    expect(result.output).toContain('--no-random-sleep-on-renew');
  });

  it('renews with --force-renewal: a new certificate replaces the old one', async () => {
    const result = await runStep(
      certbotRenewExecutor,
      { host: 'box', certName: name, args: [...common, '--force-renewal'], env },
      context,
    );
    expect(result.ok, result.output).toBe(true);
    expect(result.summary).toContain(`certificate ${name} on box renewed`);
    const cert = new X509Certificate(await readFile(path.join(dir, 'config', 'live', name, 'cert.pem')));
    expect(cert.serialNumber).not.toBe(issuedSerial);
    expect(result.data).toMatchObject({ renewed: true, serial: cert.serialNumber });
    expect(result.data?.previousNotAfter).toEqual(expect.any(String));
  });

  it('reports certbot’s own reason when it fails', async () => {
    const result = await runStep(
      certbotRenewExecutor,
      { host: 'box', certName: 'never-issued.example', args: common, env },
      context,
    );
    expect(result.ok).toBe(false);
    expect(result.summary).toMatch(/^certbot on box failed \(exit 1\): .+/);
    expect(result.summary).toContain('never-issued.example');
  });
});
