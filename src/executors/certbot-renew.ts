import { X509Certificate } from 'node:crypto';
import { z } from 'zod';
import type { HostPort } from '../checks/check.js';
import {
  absolutePath,
  CERT_NAME,
  certbotArgProblems,
  DOMAIN,
  displayArg,
  readCertbotArgs,
} from './certbot-args.js';
import type { StepExecutor } from './executor.js';
import { configName } from './validate.js';

export interface CertbotRenewParams {
  /** A host under `hosts:` (`local: true` for the machine Reef runs on). */
  host: string;
  /** The certificate lineage (`live/<certName>/`); default: the first domain. */
  certName?: string;
  /** Given: `certbot certonly -d …` (issues the certificate if missing). Absent: `certbot renew`. */
  domains?: string[];
  /** Further certbot flags from the runbook, checked against an allowlist (see certbot-args.ts). */
  args?: string[];
  /** A private ACME CA's bundle, as `env REQUESTS_CA_BUNDLE=… certbot …` on the host. */
  env?: { REQUESTS_CA_BUNDLE: string };
}

const CERTBOT_TIMEOUT_MS = 10 * 60_000;
const READ_TIMEOUT_MS = 30_000;
const OUTPUT_LIMIT = 16 * 1024;
const DAY_MS = 86_400_000;

export const certbotRenewSchema: z.ZodType<CertbotRenewParams> = z
  .strictObject({
    host: configName,
    certName: z.string().regex(CERT_NAME, 'letters, digits, ".", "_" and "-"').optional(),
    domains: z.array(z.string().regex(DOMAIN, 'must be a DNS name')).min(1).max(100).optional(),
    args: z.array(z.string()).max(64).optional(),
    env: z
      .strictObject({
        REQUESTS_CA_BUNDLE: z
          .string()
          .refine((v) => absolutePath(v) === undefined, 'must be an absolute path'),
      })
      .optional(),
  })
  .superRefine((params, ctx) => {
    const problems = certbotArgProblems(params.args ?? []);
    for (const message of problems) ctx.addIssue({ code: 'custom', path: ['args'], message });
    if (problems.length > 0) return;
    const fromArgs = readCertbotArgs(params.args ?? []).certName;
    if (!params.certName && !params.domains && !fromArgs) {
      ctx.addIssue({ code: 'custom', message: 'give certName (renew a lineage) or domains (certonly)' });
    }
    if (params.certName && fromArgs && params.certName !== fromArgs) {
      ctx.addIssue({
        code: 'custom',
        path: ['args'],
        message: `--cert-name ${fromArgs} contradicts certName: ${params.certName}`,
      });
    }
  });

/** The exact command and where its result lands. */
export interface CertbotPlan {
  argv: string[];
  certName: string;
  certPath: string;
  fullchainPath: string;
  keyPath: string;
}

/**
 * `domains` given: `certbot certonly --cert-name <name> -d …` (issues the certificate, renews it when due or
 * with --force-renewal). Otherwise `certbot renew --cert-name <name>`, with `--no-random-sleep-on-renew`: a
 * non-interactive renew otherwise first sleeps up to 8 minutes. `--non-interactive` is always set, since
 * nobody can answer a prompt.
 */
export function certbotPlan(params: CertbotRenewParams): CertbotPlan {
  const args = params.args ?? [];
  const fromArgs = readCertbotArgs(args);
  const certName = params.certName ?? fromArgs.certName ?? params.domains?.[0]?.replace(/^\*\./, '');
  if (!certName) throw new Error('certbot.renew: give certName or domains');
  const named = fromArgs.certName ? [] : ['--cert-name', certName];
  const core = params.domains
    ? ['certonly', ...named, ...params.domains.flatMap((d) => ['-d', d])]
    : ['renew', '--no-random-sleep-on-renew', ...named];
  const env = params.env ? ['env', `REQUESTS_CA_BUNDLE=${params.env.REQUESTS_CA_BUNDLE}`] : [];
  const live = `${fromArgs.configDir}/live/${certName}`;
  return {
    argv: [...env, 'certbot', ...core, ...(fromArgs.nonInteractive ? [] : ['--non-interactive']), ...args],
    certName,
    certPath: `${live}/cert.pem`,
    fullchainPath: `${live}/fullchain.pem`,
    keyPath: `${live}/privkey.pem`,
  };
}

/**
 * `certbot.renew: { host, certName?, domains?, args?, env? }`: runs certbot on the host, then reads the
 * certificate it left in `live/<name>/cert.pem` (the public certificate only; the key is never read) and
 * returns its expiry, so the runbook can go on to install it and verify the endpoint.
 */
export const certbotRenewExecutor: StepExecutor<CertbotRenewParams> = {
  type: 'certbot.renew',
  mutates: true,
  schema: certbotRenewSchema,
  describe: (params) => `on ${params.host}: ${certbotPlan(params).argv.map(displayArg).join(' ')}`,
  async execute(params, context) {
    const plan = certbotPlan(params);
    const before = await readCertificate(context.hosts, params.host, plan.certPath);
    context.log(`certbot on ${params.host}: ${plan.argv.map(displayArg).join(' ')}`);
    const run = await context.hosts.exec(params.host, plan.argv, {
      timeoutMs: CERTBOT_TIMEOUT_MS,
      maxBytes: OUTPUT_LIMIT,
    });
    const output = boundedOutput(plan.argv, run.stdout, run.stderr, run.code);
    if (run.code !== 0) {
      const why = run.code === null ? 'killed: timed out' : `exit ${run.code}`;
      return {
        ok: false,
        summary: `certbot on ${params.host} failed (${why}): ${certbotError(run.stderr || run.stdout)}`,
        output,
        data: { certName: plan.certName },
      };
    }
    const after = await readCertificate(context.hosts, params.host, plan.certPath);
    if ('problem' in after) {
      return {
        ok: false,
        summary: `certbot on ${params.host} succeeded, but ${plan.certPath} cannot be read: ${after.problem}`,
        output,
        data: { certName: plan.certName },
      };
    }
    const renewed = 'problem' in before || before.serial !== after.serial;
    const daysLeft = Math.floor((after.notAfter.getTime() - context.clock.now().getTime()) / DAY_MS);
    const until = `valid until ${after.notAfter.toISOString()} (${daysLeft} days left)`;
    return {
      ok: true,
      summary: renewed
        ? `certificate ${plan.certName} on ${params.host} ${'problem' in before ? 'issued' : 'renewed'}: ${until}`
        : `certificate ${plan.certName} on ${params.host} unchanged (certbot found it not due): ${until}`,
      output,
      data: {
        certName: plan.certName,
        notAfter: after.notAfter.toISOString(),
        daysLeft,
        serial: after.serial,
        renewed,
        // Reef's convention for "this step found nothing to do" (see run-execution.ts).
        changed: renewed,
        ...('problem' in before ? {} : { previousNotAfter: before.notAfter.toISOString() }),
        certPath: plan.certPath,
        fullchainPath: plan.fullchainPath,
        keyPath: plan.keyPath,
      },
    };
  },
};

type CertificateRead = { notAfter: Date; serial: string } | { problem: string };

/** Reads the public certificate over the host port and parses it here (no openssl needed on the host). */
async function readCertificate(hosts: HostPort, host: string, certPath: string): Promise<CertificateRead> {
  const read = await hosts.exec(host, ['cat', '--', certPath], {
    timeoutMs: READ_TIMEOUT_MS,
    maxBytes: 256 * 1024,
  });
  if (read.code !== 0) return { problem: read.stderr.trim() || `cat exited ${read.code}` };
  try {
    const cert = new X509Certificate(read.stdout);
    return { notAfter: new Date(cert.validTo), serial: cert.serialNumber };
  } catch (error) {
    return { problem: `not a PEM certificate (${(error as Error).message})` };
  }
}

/** certbot's stdout and stderr for the audit: bounded, and any PEM private key blanked out, just in case. */
function boundedOutput(argv: readonly string[], stdout: string, stderr: string, code: number | null): string {
  const text = `$ ${argv.map(displayArg).join(' ')}\n${stdout}${stderr}(exit ${code ?? 'killed'})`;
  const safe = text.replace(
    /-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?(-----END \1PRIVATE KEY-----|$)/g,
    '[private key redacted]',
  );
  return safe.length > OUTPUT_LIMIT ? `…${safe.slice(-OUTPUT_LIMIT)}` : safe;
}

/** The line that says what went wrong, skipping certbot's boilerplate around it. */
function certbotError(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^(Saving debug log|Ask for help|See the logfile|- - -)/.test(l));
  return lines.find((l) => /error|failed|problem|unable|could not/i.test(l)) ?? lines.at(-1) ?? 'no output';
}
