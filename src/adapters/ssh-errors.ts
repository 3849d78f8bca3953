import type { SshHostConfig } from '../config/schema.js';
import { errorMessage, isReefError, ReefError } from '../errors.js';

/** The host a failure is about, by its name in `hosts:` and its settings. */
export interface Where {
  name: string;
  host: SshHostConfig;
}

function label({ name, host }: Where): string {
  return `${name} (${host.host}:${host.port}${host.via ? ` via ${host.via}` : ''})`;
}

/**
 * Turns what node-ssh/ssh2 threw while connecting into an error that says which host, what went wrong
 * and what to do: authentication (naming user@host and the key), key files, or reachability.
 */
export function connectError(where: Where, error: unknown, keyPath: string | undefined): ReefError {
  if (isReefError(error)) return error;
  const { name, host } = where;
  const e = error as { message?: string; code?: string; level?: string };
  const message = e.message ?? String(error);
  const user = `${host.username}@${host.host}:${host.port}`;
  const credential = keyPath ? `key ${keyPath}` : 'the keys in the SSH agent';
  if (e.level === 'client-authentication') {
    return new ReefError(
      'reef_ssh_auth',
      `SSH authentication failed for ${user} (${name}) with ${credential}: the server accepted none`,
      {
        hint: `Check that ${keyPath ? `${keyPath}.pub` : 'the public key'} is in ~${host.username}/.ssh/authorized_keys on ${name} and that the username "${host.username}" is right.`,
        cause: error,
      },
    );
  }
  if (e.level === 'agent') {
    return new ReefError('reef_ssh_auth', `the SSH agent failed for ${user} (${name}): ${message}`, {
      hint: 'Check SSH_AUTH_SOCK and that the agent holds a key (ssh-add -l), or set privateKeyPath.',
      cause: error,
    });
  }
  if (/privateKey|passphrase/i.test(message)) {
    const encrypted = /encrypted|passphrase/i.test(message);
    return new ReefError(
      'reef_ssh_auth',
      encrypted
        ? `the private key ${keyPath} for ${user} (${name}) is protected by a passphrase, which Reef does not take`
        : `cannot use the private key ${keyPath} for ${user} (${name}): ${message}`,
      {
        hint: encrypted
          ? 'Load it into an SSH agent (ssh-add) and remove privateKeyPath, or give Reef its own key without a passphrase.'
          : 'privateKeyPath must name an OpenSSH or PEM private key (ed25519, ECDSA or RSA).',
        cause: error,
      },
    );
  }
  const [reason, hint] = unreachableReason(host, e, message);
  return new ReefError('reef_ssh_unreachable', `cannot reach ${label(where)}: ${reason}`, {
    hint,
    cause: error,
  });
}

function unreachableReason(
  host: SshHostConfig,
  e: { code?: string; level?: string },
  message: string,
): [string, string] {
  const address = `${host.host}:${host.port}`;
  if (e.code === 'ECONNREFUSED') {
    return [
      'connection refused',
      `Nothing listens on ${address}: is sshd running there, and is the port right?`,
    ];
  }
  if (e.level === 'client-timeout' || e.code === 'ETIMEDOUT') {
    return [
      `no SSH handshake within ${host.timeoutMs} ms`,
      'The host may be down or a firewall drops the connection; if it is only slow, raise its timeoutMs.',
    ];
  }
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') {
    return [`cannot resolve ${host.host}`, 'Check the host name, or use its address.'];
  }
  if (e.code === 'EHOSTUNREACH' || e.code === 'ENETUNREACH') {
    return ['no route to host', 'The host is down or not on a network this machine can reach.'];
  }
  if (e.code === 'ECONNRESET' || /No response from server/.test(message)) {
    return [
      'the connection closed during the SSH handshake',
      `Is ${address} an SSH server? sshd may also be shedding connections (MaxStartups) or blocking this address.`,
    ];
  }
  return [
    message,
    `Try \`ssh -p ${host.port} ${host.username}@${host.host}\` from the machine running Reef.`,
  ];
}

/** A host behind a bastion that failed: the bastion's own error, naming the hop. */
export function hopError(where: Where, via: string, error: unknown): ReefError {
  const inner = isReefError(error) ? error : new ReefError('reef_ssh_unreachable', errorMessage(error));
  return new ReefError(inner.code, `cannot reach ${where.name} through bastion "${via}": ${inner.message}`, {
    ...(inner.hint ? { hint: inner.hint } : {}),
    cause: error,
  });
}

/** The bastion is up but could not open the forwarded connection to the next hop. */
export function forwardError(where: Where, via: string, error: unknown): ReefError {
  const { name, host } = where;
  const { message = String(error), reason } = error as { message?: string; reason?: unknown };
  // RFC 4254 open-failure reason 1: OpenSSH answers "open failed" when forwarding is not allowed.
  const prohibited = reason === 1 || /prohibited/i.test(message);
  const detail =
    prohibited && !/prohibited/i.test(message) ? `${message} (administratively prohibited)` : message;
  return new ReefError(
    'reef_ssh_unreachable',
    `bastion "${via}" could not open a connection to ${host.host}:${host.port} for ${name}: ${detail}`,
    {
      hint: prohibited
        ? `sshd on "${via}" forbids TCP forwarding for this user (AllowTcpForwarding / PermitOpen).`
        : `Check from "${via}" that ${host.host}:${host.port} answers (e.g. \`nc -z ${host.host} ${host.port}\`).`,
      cause: error,
    },
  );
}
