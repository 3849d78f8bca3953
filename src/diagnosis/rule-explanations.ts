import type { Facts } from '../findings/finding.js';
import type { Incident } from '../incidents/incident.js';

/**
 * What the rule-based diagnoser knows about each check's conditions: a short explanation from the
 * finding's facts, and how sure it can be. Pure functions of the incident, one per condition, so a
 * new check or condition adds one entry here and nothing else.
 */
export interface Explanation {
  /** One sentence: what is wrong. */
  headline: string;
  /** Why it probably happened, and what a fix buys. */
  cause: string;
  /** How far the facts support the cause, 0..1. */
  confidence: number;
}

type Explain = (incident: Incident, facts: Facts) => Explanation;

const num = (facts: Facts, key: string): number | undefined => {
  const value = facts[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
};
const str = (facts: Facts, key: string): string | undefined => {
  const value = facts[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
};

const EXIT_CODES: Record<number, string> = {
  0: 'the process exits successfully and is started again (a job-like command in a long-running pod)',
  1: 'the application fails on its own (a startup error: bad configuration, a missing dependency or secret)',
  2: 'the command is misused (wrong arguments or a shell error in the entrypoint)',
  126: 'the entrypoint cannot be executed (permissions or a wrong architecture)',
  127: 'the entrypoint is not found in the image (a wrong command or image)',
  137: 'the container was killed (SIGKILL: out of memory, or a failing liveness probe)',
  139: 'the process crashed with a segmentation fault',
  143: 'the container was stopped (SIGTERM: a failing liveness probe or an eviction)',
};

function restartsRising(facts: Facts): boolean {
  const restarts = num(facts, 'restartCount') ?? 0;
  const previous = num(facts, 'previousRestartCount');
  return (previous !== undefined && restarts > previous) || restarts >= 3;
}

const pods: Record<string, Explain> = {
  OOMKilled: (i, f) => {
    const restarts = num(f, 'restartCount') ?? 0;
    const rising = restartsRising(f);
    return {
      headline: `container ${str(f, 'container') ?? '?'} of ${i.target} was killed for exceeding its memory limit (${restarts} restart${restarts === 1 ? '' : 's'})`,
      cause: rising
        ? 'memory limit too low or a leak; a restart buys time, raising the limit or fixing the leak ends it'
        : 'a burst of memory use over the limit; a restart recovers it, a repeat would point to a leak or a limit set too low',
      confidence: rising ? 0.8 : 0.6,
    };
  },
  CrashLoopBackOff: (i, f) => {
    const code = num(f, 'exitCode');
    const meaning = code === undefined ? undefined : EXIT_CODES[code];
    return {
      headline: `container ${str(f, 'container') ?? '?'} of ${i.target} is crash-looping (${num(f, 'restartCount') ?? '?'} restarts, last exit ${code ?? 'unknown'})`,
      cause: meaning
        ? `exit ${code}: ${meaning}; a restart helps only if the cause was transient, otherwise the new pod crashes the same way`
        : 'the container keeps exiting; the last log lines say why; a restart helps only if the cause was transient',
      confidence: meaning ? 0.6 : 0.4,
    };
  },
  ImagePullBackOff: (i, f) => ({
    headline: `${i.target} cannot pull its image${str(f, 'image') ? ` ${str(f, 'image')}` : ''}`,
    cause:
      'a wrong image name or tag, a registry that is unreachable, or missing pull credentials; restarting the pod does not fix it',
    confidence: 0.7,
  }),
  Pending: (i, f) => ({
    headline: `${i.target} is not running yet (${str(f, 'reason') ?? 'Pending'})`,
    cause:
      str(f, 'reason') === 'Unschedulable'
        ? `no node can take it (${str(f, 'message') ?? 'not enough CPU or memory, or node selectors and taints rule every node out'}); more capacity or smaller requests fix it`
        : `it is stuck before starting${str(f, 'message') ? ` (${str(f, 'message')})` : ''}: a volume, a config map or a secret it needs may be missing`,
    confidence: 0.5,
  }),
  restarting: (i, f) => ({
    headline: `container ${str(f, 'container') ?? '?'} of ${i.target} keeps restarting (${num(f, 'previousRestartCount') ?? '?'} → ${num(f, 'restartCount') ?? '?'})`,
    cause: `its last termination was ${str(f, 'lastTerminationReason') ?? 'not recorded'}${num(f, 'exitCode') !== undefined ? ` (exit ${num(f, 'exitCode')})` : ''}; it still serves between restarts, so watch whether it settles`,
    confidence: 0.4,
  }),
};

const http: Record<string, Explain> = {
  unreachable: (i) => ({
    headline: `${i.target} does not accept connections`,
    cause: 'the service is down, or DNS, a firewall or the network between Reef and it fails',
    confidence: 0.5,
  }),
  timeout: (i) => ({
    headline: `${i.target} does not answer in time`,
    cause:
      'the service is overloaded or hung (a stuck worker pool, a slow database), or the network drops packets',
    confidence: 0.5,
  }),
  'bad-status': (i, f) => {
    const status = num(f, 'status') ?? Number(/HTTP (\d{3})/.exec(i.summary)?.[1]);
    const cause =
      status >= 500
        ? status === 502 || status === 503 || status === 504
          ? 'a proxy or load balancer cannot reach a healthy backend: the backend is down, restarting or overloaded'
          : 'the application fails while serving (an exception, a failing dependency)'
        : 'the route, the authentication or the deployment changed: the answer is deliberate, not a crash';
    return { headline: `${i.target} answers with an unexpected status`, cause, confidence: 0.5 };
  },
  'body-mismatch': (i) => ({
    headline: `${i.target} answers, but not with the expected page`,
    cause: 'a maintenance or error page, a wrong deployment, or content that changed on purpose',
    confidence: 0.4,
  }),
};

const certificate: Record<string, Explain> = {
  expiring: (i, f) => ({
    headline: `the certificate of ${i.target} expires in ${num(f, 'daysLeft')?.toFixed(1) ?? 'a few'} days`,
    cause: 'automatic renewal did not run or failed (certbot or cert-manager); renewing now avoids an outage',
    confidence: 0.8,
  }),
  expired: (i) => ({
    headline: `the certificate of ${i.target} has expired`,
    cause:
      'renewal failed or the renewed certificate was never deployed; clients refuse the connection until it is replaced',
    confidence: 0.8,
  }),
  untrusted: (i, f) => ({
    headline: `the certificate chain of ${i.target} is not trusted (${str(f, 'authorizationError') ?? 'unknown reason'})`,
    cause:
      'an intermediate certificate is missing from the chain, or it is signed by a private CA that is not configured',
    confidence: 0.6,
  }),
  'hostname-mismatch': (i) => ({
    headline: `${i.target} serves a certificate for another name`,
    cause: 'the wrong virtual host or SNI default answers, or the certificate lacks this name',
    confidence: 0.6,
  }),
  'not-yet-valid': (i) => ({
    headline: `the certificate of ${i.target} is not valid yet`,
    cause: 'a clock is wrong (on the server or on Reef), or a certificate was deployed before its start date',
    confidence: 0.5,
  }),
  unreachable: (i) => ({
    headline: `the TLS endpoint ${i.target} cannot be reached`,
    cause: 'the service is down or a firewall blocks the port',
    confidence: 0.5,
  }),
};

function diskExplain(level: string): Explain {
  return (i, f) => {
    const largest = Array.isArray(f.largestDirectories)
      ? f.largestDirectories
          .slice(0, 3)
          .map((d) => (d && typeof d === 'object' && 'path' in d ? String(d.path) : ''))
          .filter(Boolean)
      : [];
    return {
      headline: `${i.target} is ${num(f, 'usedPercent') ?? '?'}% full (${level})`,
      cause: `data grows faster than it is cleaned up${largest.length ? `; most of it is under ${largest.join(', ')}` : ''}: logs without rotation, old releases or caches; a cleanup or a rotation buys space, the growth rate says for how long`,
      confidence: largest.length ? 0.7 : 0.5,
    };
  };
}

const disk: Record<string, Explain> = {
  'disk-high': diskExplain('above the warning level'),
  'disk-critical': diskExplain('above the action level'),
  'inodes-high': (i, f) => ({
    headline: `${i.target} uses ${num(f, 'inodesUsedPercent') ?? '?'}% of its inodes`,
    cause: 'a very large number of small files (session files, caches, a mail queue) rather than large data',
    confidence: 0.6,
  }),
};

const errorLogs: Record<string, Explain> = {
  'error-spike': (i, f) => {
    const top = Array.isArray(f.topMessages) ? f.topMessages[0] : undefined;
    const message = top && typeof top === 'object' && 'message' in top ? String(top.message) : undefined;
    return {
      headline: `${i.target} logs ${num(f, 'current') ?? '?'} errors in the last ${str(f, 'window') ?? 'window'}, ${num(f, 'factor') ?? '?'}× its usual rate`,
      cause: `a new failure started${message ? ` (mostly "${message}")` : ''}: often a deploy, a failing dependency or bad input; the sample lines say which`,
      confidence: message ? 0.5 : 0.4,
    };
  },
};

const BY_CHECK: Record<string, Record<string, Explain>> = { pods, http, certificate, disk, errorLogs };

/** The explanation for an incident's check and condition, or a generic one from its summary. */
export function explain(incident: Incident): Explanation {
  const rule = BY_CHECK[incident.check]?.[incident.condition];
  if (rule) return rule(incident, incident.facts);
  return {
    headline: `${incident.check}/${incident.target} reports ${incident.condition}`,
    cause: `no rule explains this condition; the check says: ${incident.summary}`,
    confidence: 0.3,
  };
}
