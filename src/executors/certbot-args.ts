import path from 'node:path';

/**
 * The certbot flags a runbook may pass, each with a rule for its value. Anything else is refused: hooks
 * (`--deploy-hook`, `--pre-hook`, `--manual-auth-hook`) run shell commands, and flags like `--cert-path`
 * or `--installer` reach outside what a renewal step should touch. Values are checked one by one, since
 * they may come from a finding's facts.
 */
type ValueRule = (value: string) => string | undefined;

export const absolutePath: ValueRule = (v) =>
  path.posix.isAbsolute(v) && !v.split('/').includes('..')
    ? undefined
    : 'must be an absolute path without ".." (e.g. /etc/letsencrypt)';
const oneOf =
  (...allowed: string[]): ValueRule =>
  (v) =>
    allowed.includes(v) ? undefined : `must be one of ${allowed.join(', ')}`;

export const CERT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
export const DOMAIN = new RegExp(`^(?:\\*\\.)?(?:${LABEL}\\.)*${LABEL}$`);

const VALUE_FLAGS: Readonly<Record<string, ValueRule>> = {
  '--server': (v) => {
    try {
      const url = new URL(v);
      return url.protocol === 'https:' && !url.username && !url.password
        ? undefined
        : 'must be an https:// ACME directory URL without credentials';
    } catch {
      return 'must be an https:// ACME directory URL';
    }
  },
  '--config-dir': absolutePath,
  '--work-dir': absolutePath,
  '--logs-dir': absolutePath,
  '--webroot-path': absolutePath,
  '-w': absolutePath,
  '--cert-name': (v) =>
    CERT_NAME.test(v) ? undefined : 'must be a certificate name (letters, digits, ".", "_", "-")',
  '--http-01-port': (v) =>
    /^\d{1,5}$/.test(v) && Number(v) >= 1 && Number(v) <= 65535 ? undefined : 'must be a port number',
  '--http-01-address': (v) =>
    /^[A-Za-z0-9.:-]{1,253}$/.test(v) ? undefined : 'must be an IP address or host name',
  '--preferred-challenges': (v) =>
    /^(?:http-01|dns-01|tls-alpn-01|http|dns)(?:,(?:http-01|dns-01|tls-alpn-01|http|dns))*$/.test(v)
      ? undefined
      : 'must be a comma-separated list of http-01, dns-01, tls-alpn-01',
  '--email': (v) => (/^[^\s@,]+@[^\s@,]+$/.test(v) ? undefined : 'must be an e-mail address'),
  '-m': (v) => (/^[^\s@,]+@[^\s@,]+$/.test(v) ? undefined : 'must be an e-mail address'),
  '--key-type': oneOf('rsa', 'ecdsa'),
  '--rsa-key-size': oneOf('2048', '3072', '4096'),
  '--elliptic-curve': oneOf('secp256r1', 'secp384r1', 'secp521r1'),
};

const BOOLEAN_FLAGS: ReadonlySet<string> = new Set([
  '--force-renewal',
  '--keep-until-expiring',
  '--expand',
  '--reuse-key',
  '--non-interactive',
  '-n',
  '--agree-tos',
  '--standalone',
  '--webroot',
  '--no-eff-email',
  '--register-unsafely-without-email',
]);

/** Flags Reef sets itself from the step's parameters. */
const FROM_PARAMS: Readonly<Record<string, string>> = {
  '-d': 'list them under domains:',
  '--domain': 'list them under domains:',
  '--domains': 'list them under domains:',
};

export interface CertbotArgs {
  /** `--config-dir`, else certbot's default. */
  configDir: string;
  /** `--cert-name` when the args carry one. */
  certName: string | undefined;
  nonInteractive: boolean;
}

/** Checks runbook args against the allowlist; returns every problem, one line each (empty: all fine). */
export function certbotArgProblems(args: readonly string[]): string[] {
  const problems: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (/[\0\n\r]/.test(arg)) {
      problems.push(`args[${i}]: contains a control character`);
      continue;
    }
    if (FROM_PARAMS[flag]) {
      problems.push(`args[${i}]: ${flag} is not allowed in args; ${FROM_PARAMS[flag]}`);
      continue;
    }
    const rule = VALUE_FLAGS[flag];
    if (rule) {
      const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
      if (value === undefined) problems.push(`args[${i - 1}]: ${flag} needs a value`);
      else {
        const problem = rule(value);
        if (problem) problems.push(`args[${eq > 0 ? i : i - 1}]: ${flag} ${problem} (got "${value}")`);
      }
      continue;
    }
    if (BOOLEAN_FLAGS.has(flag) && eq < 0) continue;
    problems.push(
      `args[${i}]: "${arg}" is not an allowed certbot flag (allowed: ${[...Object.keys(VALUE_FLAGS), ...BOOLEAN_FLAGS].join(' ')})`,
    );
  }
  return problems;
}

/** What Reef needs to know from already validated args. */
export function readCertbotArgs(args: readonly string[]): CertbotArgs {
  const value = (flag: string): string | undefined => {
    let found: string | undefined;
    args.forEach((arg, i) => {
      if (arg === flag) found = args[i + 1];
      else if (arg.startsWith(`${flag}=`)) found = arg.slice(flag.length + 1);
    });
    return found;
  };
  return {
    configDir: value('--config-dir')?.replace(/\/+$/, '') || '/etc/letsencrypt',
    certName: value('--cert-name'),
    nonInteractive: args.includes('--non-interactive') || args.includes('-n'),
  };
}

/** An argv element as a POSIX shell would need it, for previews only (execution never uses a shell). */
export function displayArg(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
