/**
 * Every failure Reef reports to an operator is a `ReefError`: a stable `code` (for tests, logs and
 * exit codes), a message saying what is wrong and where, and a `hint` saying what to do about it.
 */
export const REEF_ERROR_CODES = [
  'reef_config_invalid',
  'reef_config_missing',
  'reef_redis_unavailable',
  'reef_no_worker',
  'reef_timeout',
  'reef_incident_not_found',
  'reef_invalid_transition',
  'reef_check_failed',
  'reef_usage',
  'reef_ssh_auth',
  'reef_ssh_host_key',
  'reef_ssh_unreachable',
  'reef_runbook_invalid',
  'reef_runbooks_not_found',
  /** The memory git repository could not be read or written (git missing, not Reef's repository…). */
  'reef_memory_failed',
  /** Slack's Web API refused a call for a reason retrying cannot fix (a wrong channel, a revoked token). */
  'reef_slack_api',
] as const;

export type ReefErrorCode = (typeof REEF_ERROR_CODES)[number];

export interface ReefErrorOptions {
  /** What the operator should do next, printed on its own line. */
  hint?: string;
  /** Individual problems (for example one line per invalid config field). */
  details?: readonly string[];
  cause?: unknown;
}

export class ReefError extends Error {
  readonly code: ReefErrorCode;
  readonly hint: string | undefined;
  readonly details: readonly string[];

  constructor(code: ReefErrorCode, message: string, options: ReefErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ReefError';
    this.code = code;
    this.hint = options.hint;
    this.details = options.details ?? [];
  }

  /** The full, human-readable text: message, each detail on its own line, then the hint. */
  describe(): string {
    const lines = [this.message, ...this.details.map((d) => `  - ${d}`)];
    if (this.hint) lines.push(`hint: ${this.hint}`);
    return lines.join('\n');
  }
}

export function isReefError(error: unknown): error is ReefError {
  return error instanceof ReefError;
}

/** A short message for any thrown value, without a stack trace. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
