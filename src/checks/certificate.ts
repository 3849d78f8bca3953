import { isIP } from 'node:net';
import tls from 'node:tls';
import { CaFileError } from '../adapters/tls-client.js';
import type { CertificateTarget } from '../config/schema.js';
import { type Facts, type Finding, makeFinding, type Severity } from '../findings/finding.js';
import type { Check } from './check.js';

const DAY_MS = 86_400_000;
/** Verification errors that are about dates, reported as `expired`, not as `untrusted`. */
const DATE_ERRORS = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

/**
 * TLS certificate check: connects (SNI from the URL host unless it is an IP), reads the served
 * certificate even when its chain is untrusted, and reports expiry, trust and name problems as
 * separate findings so each has its own incident.
 */
export const certificateCheck: Check<CertificateTarget> = {
  kind: 'certificate',
  targets: (config) => config.checks.certificates,
  nameOf: (target) => target.name,
  async probe(target, { tls: tlsPort, clock }) {
    const url = new URL(target.url);
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = url.port ? Number(url.port) : 443;
    const servername = target.servername ?? (isIP(host) === 0 ? host : undefined);
    const now = clock.now();
    const base = { check: 'certificate' as const, target: target.name };

    let peer: Awaited<ReturnType<typeof tlsPort.fetchPeerCertificate>>;
    const started = performance.now();
    const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
    try {
      peer = await tlsPort.fetchPeerCertificate({
        host,
        port,
        servername,
        timeoutMs: target.timeoutMs,
        caFile: target.caFile,
      });
    } catch (error) {
      const latencyMs = elapsed();
      const err = error as { code?: string; message?: string };
      if (error instanceof CaFileError) throw error;
      return [
        makeFinding(
          {
            ...base,
            condition: 'unreachable',
            severity: 'critical',
            summary: `TLS connection to ${host}:${port} failed: ${err.message ?? String(error)}`,
            facts: {
              url: target.url,
              host,
              port,
              error: err.message ?? String(error),
              code: err.code ?? null,
              latencyMs,
            },
          },
          now,
        ),
      ];
    }

    const latencyMs = elapsed();
    const { certificate } = peer;
    const notAfter = new Date(certificate.validTo);
    const notBefore = new Date(certificate.validFrom);
    const daysLeft = Math.floor(((notAfter.getTime() - now.getTime()) / DAY_MS) * 10) / 10;
    const altNames = (certificate.subjectAltName ?? '')
      .split(/,\s*/)
      .map((s) => s.trim())
      .filter(Boolean);
    const identity = servername ?? host;
    const facts: Facts = {
      url: target.url,
      daysLeft,
      notAfter: notAfter.toISOString(),
      notBefore: notBefore.toISOString(),
      issuer: flattenDn(certificate.issuer),
      subject: flattenDn(certificate.subject),
      altNames,
      serialNumber: certificate.serialNumber,
      fingerprint256: certificate.fingerprint256,
      authorized: peer.authorized,
      authorizationError: peer.authorizationError ?? null,
      latencyMs,
    };

    const problems: { condition: string; severity: Severity; summary: string }[] = [];
    if (now.getTime() >= notAfter.getTime()) {
      problems.push({
        condition: 'expired',
        severity: 'critical',
        summary: `certificate expired ${formatDays(-daysLeft)} ago (${notAfter.toISOString()})`,
      });
    } else if (daysLeft < target.warnDays) {
      const critical = daysLeft < target.criticalDays;
      problems.push({
        condition: 'expiring',
        severity: critical ? 'critical' : 'warning',
        summary: `certificate expires in ${formatDays(daysLeft)} (${notAfter.toISOString()}; ${critical ? 'critical' : 'warn'} under ${critical ? target.criticalDays : target.warnDays} days)`,
      });
    }
    if (now.getTime() < notBefore.getTime()) {
      problems.push({
        condition: 'not-yet-valid',
        severity: 'warning',
        summary: `certificate is not valid before ${notBefore.toISOString()}`,
      });
    }
    if (!peer.authorized && peer.authorizationError && !DATE_ERRORS.has(peer.authorizationError)) {
      problems.push({
        condition: 'untrusted',
        severity: 'warning',
        summary: `certificate chain is not trusted: ${peer.authorizationError}${target.caFile ? '' : ' (set caFile for a private CA)'}`,
      });
    }
    const mismatch = tls.checkServerIdentity(identity, peer.legacy);
    if (mismatch) {
      problems.push({
        condition: 'hostname-mismatch',
        severity: 'warning',
        summary: `certificate does not cover "${identity}" (it names ${altNames.join(', ') || facts.subject})`,
      });
    }

    if (problems.length === 0) {
      return [
        makeFinding(
          {
            ...base,
            condition: 'ok',
            severity: 'ok',
            summary: `certificate valid for ${formatDays(daysLeft)}`,
            facts,
          },
          now,
        ),
      ];
    }
    return problems.map((p): Finding => makeFinding({ ...base, ...p, facts }, now));
  },
};

function flattenDn(dn: string | undefined): string {
  return (dn ?? '').split('\n').filter(Boolean).reverse().join(', ');
}

function formatDays(days: number): string {
  const rounded = Math.abs(days) < 2 ? Math.round(Math.abs(days) * 10) / 10 : Math.floor(Math.abs(days));
  return `${rounded} day${rounded === 1 ? '' : 's'}`;
}
