import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { BUNDLED_RUNBOOKS_DIR } from '../../src/runbooks/location.js';
import { type CertbotHost, certbotDirArgs } from '../fixtures/certbot-lineage.js';
import { hostEntry, type TestSshd } from '../fixtures/sshd.js';

/**
 * The acceptance test's site, written as an operator would write it: one reef.yaml and the two bundled
 * runbooks it needs, adapted only where their own prose asks every site to adapt them. The names the
 * shipped certificate runbook uses stay as they are (host `edge`, cluster `home`, namespace `ingress`):
 * here `edge` is the loopback sshd and `home` the Kubernetes API stand-in.
 */

export const ALERTS = 'CALERTS';
export const DIGEST = 'CDIGEST';
/** The one configured approver. */
export const APPROVER = 'UANA';
export const APPS = 'apps';
export const INGRESS = 'ingress';

export interface SiteOptions {
  dir: string;
  prefix: string;
  kubeconfig: string;
  context: string;
  sshd: TestSshd;
  certbot: CertbotHost;
  /** The certificate check's name: certbot's certificate name, the Secret's name and the SNI name. */
  certName: string;
  ingressUrl: string;
  /** The root the ingress's certificates chain to (pebble's). */
  caFile: string;
}

/** Writes `reef.yaml` and `runbooks/` under `dir`; returns the config's path. */
export function writeSite(o: SiteOptions): string {
  const runbooks = path.join(o.dir, 'runbooks');
  mkdirSync(runbooks, { recursive: true });
  writeFileSync(path.join(runbooks, 'pod-restart.md'), podRestart());
  writeFileSync(path.join(runbooks, 'certificate-renewal.md'), certificateRenewal(o.certbot));
  const config = {
    timezone: 'UTC',
    redis: { prefix: o.prefix },
    // Nothing sweeps on its own during the test: the pod case is the watch's alone, and the certificate
    // case queues its sweep explicitly. The schedules are still declared, as `reef start` always does.
    schedule: { checks: '0 0 1 1 *', brainstorm: '0 0 1 1 *' },
    sweep: { runOnStart: false },
    runbooks: { dir: 'runbooks' },
    memoryDir: './memory',
    hosts: { edge: hostEntry(o.sshd) },
    clusters: { home: { kubeconfig: o.kubeconfig, context: o.context } },
    checks: {
      pods: [{ cluster: 'home', namespaces: [APPS] }],
      certificates: [
        { name: o.certName, url: o.ingressUrl, servername: o.certName, caFile: o.caFile, warnDays: 14 },
      ],
    },
    slack: {
      channels: { alerts: ALERTS, digest: DIGEST },
      approvers: { users: [APPROVER] },
    },
  };
  const file = path.join(o.dir, 'reef.yaml');
  writeFileSync(file, stringify(config));
  return file;
}

function bundled(name: string): string {
  return readFileSync(path.join(BUNDLED_RUNBOOKS_DIR, name), 'utf8');
}

/** Fails loudly when a bundled runbook no longer has the text an adaptation replaces. */
function replaced(text: string, pattern: RegExp | string, by: string, what: string): string {
  const next = text.replace(pattern, by);
  if (next === text) throw new Error(`the bundled runbook changed: no ${what} to adapt; update site.ts`);
  return next;
}

/** pod-restart as shipped (mode approve), verified one second after the eviction instead of two minutes. */
function podRestart(): string {
  return replaced(bundled('pod-restart.md'), 'verify: { after: 2m }', 'verify: { after: 1s }', 'verify');
}

/**
 * certificate-renewal as shipped (mode approve, host edge, cluster home, namespace ingress), with
 * certbot's directories under the test's own (instead of /etc/letsencrypt), its standalone port on
 * loopback, pebble's CA bundle, and a one-second verification.
 */
function certificateRenewal(host: CertbotHost): string {
  const text = bundled('certificate-renewal.md');
  const end = text.indexOf('\n---', 4);
  let front = text.slice(0, end);
  front = replaced(front, /^verify: .*$/m, 'verify: { after: 1s }', 'verify');
  front = replaced(
    front,
    /^( +)certName: "\{\{target\}\}"$/m,
    `$&\n$1args: ${JSON.stringify(certbotDirArgs(host))}\n$1env: { REQUESTS_CA_BUNDLE: ${JSON.stringify(host.caBundle)} }`,
    'certName',
  );
  front = replaced(front, /\/etc\/letsencrypt\//g, `${host.configDir}/`, '/etc/letsencrypt');
  return front + text.slice(end);
}
