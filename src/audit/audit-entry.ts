import { createHash } from 'node:crypto';
import { ReefError } from '../errors.js';
import { redactText } from '../secrets/redact.js';
import { redactSecrets } from './redact.js';

/**
 * What an audit entry records. Closed on purpose: a reader (`reef audit`, the Nightly Brainstorm, an
 * auditor's grep) can rely on every action meaning one thing; a new kind of event is a new word here.
 */
export const AUDIT_ACTIONS = [
  /** Runbook + mode + guardrails decided what to do (run, ask, suggest, ignore, escalate). */
  'decision',
  'approval-requested',
  'approval',
  /** A click or command that was not allowed (not an approver, expired, already handled). */
  'approval-refused',
  'approval-expired',
  'dismissal',
  'silence',
  'execution',
  /** A worker died mid-run; the run is handed to a human, never re-run blindly. */
  'execution-interrupted',
  'step',
  /** A step or parameter refused by a guardrail (bad fact, path outside roots, stateful pod, …). */
  'step-refused',
  'verification',
  'resolution',
  'escalation',
  'pause',
  'resume',
  /** A memory commit refused because a file held a secret; the file was quarantined, redacted. */
  'memory-commit-blocked',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** JSON that fits in an audit line. */
export type AuditDetails = Record<string, unknown>;

/** One append-only audit record. */
export interface AuditEntry {
  /** ISO 8601 time the thing happened (the writer's clock). */
  at: string;
  /** Who: `reef` for Reef's own decisions, `cli:<user>` for the console, a Slack user id for a click. */
  actor: string;
  action: AuditAction;
  incidentId?: string;
  fingerprint?: string;
  runbookId?: string;
  /** `<check>/<target>`, or the host/pod a step acted on. */
  target?: string;
  /** The human reason, as an operator would want to read it later. */
  why: string;
  /** A small JSON object; credential-named keys are redacted before it is stored anywhere. */
  details?: AuditDetails;
  /** `sha256:<hex>` of the (bounded) step output, see {@link digestOutput}. */
  outputDigest?: string;
}

/** What callers pass to `AuditLog.record`: `at` defaults to the log's clock. */
export type AuditInput = Omit<AuditEntry, 'at'> & { at?: string | Date };

/** An entry as read back: the Redis stream id (time-ordered across every writer) plus the entry. */
export type AuditRecord = AuditEntry & { id: string };

/**
 * Size bounds, counted in JSON-escaped UTF-8 bytes, keep one serialised entry (with its stream id) under
 * 4 KiB, so its mirror line goes out in a single `write(2)` with O_APPEND and lines written by two
 * processes can never interleave. Worst case: 4×128 + 256 + 128 + 1024 + 1536 + ~250 of keys ≈ 3.7 KiB.
 */
const MAX_ID_BYTES = 128;
const MAX_TARGET_BYTES = 256;
const MAX_WHY_BYTES = 1024;
const MAX_DETAILS_BYTES = 1536;
const DETAILS_PREVIEW_BYTES = 512;

export function isAuditAction(value: string): value is AuditAction {
  return (AUDIT_ACTIONS as readonly string[]).includes(value);
}

/** `sha256:<hex>` of a step's output: proves later what the output was without storing all of it. */
export function digestOutput(output: string | Uint8Array): string {
  return `sha256:${createHash('sha256').update(output).digest('hex')}`;
}

/**
 * Validates, redacts and bounds an entry. Throws a `ReefError` for a programming mistake (unknown
 * action, empty actor or why): an audit record that cannot be read later is worse than a loud failure.
 */
export function normalizeEntry(input: AuditInput, now: Date): AuditEntry {
  if (!isAuditAction(input.action))
    throw new ReefError('reef_usage', `Unknown audit action "${String(input.action)}"`, {
      hint: `Use one of: ${AUDIT_ACTIONS.join(', ')}.`,
    });
  if (!input.actor?.trim() || !input.why?.trim())
    throw new ReefError('reef_usage', 'An audit entry needs an actor and a reason (why)');
  const at = input.at === undefined ? now : new Date(input.at);
  if (Number.isNaN(at.getTime()))
    throw new ReefError('reef_usage', `Audit entry time "${String(input.at)}" is not a date`);
  const optional = (key: keyof AuditEntry, value: string | undefined, max: number) =>
    value === undefined || value === '' ? {} : { [key]: bound(String(value), max) };
  return {
    at: at.toISOString(),
    actor: bound(input.actor, MAX_ID_BYTES),
    action: input.action,
    ...optional('incidentId', input.incidentId, MAX_ID_BYTES),
    ...optional('fingerprint', input.fingerprint, MAX_ID_BYTES),
    ...optional('runbookId', input.runbookId, MAX_ID_BYTES),
    ...optional('target', input.target, MAX_TARGET_BYTES),
    // The reason often quotes what a check or a step saw (summaries, command output): same rules as details.
    why: bound(redactText(input.why), MAX_WHY_BYTES),
    ...(input.details === undefined ? {} : { details: boundDetails(input.details) }),
    ...optional('outputDigest', input.outputDigest, MAX_ID_BYTES),
  };
}

function boundDetails(details: AuditDetails): AuditDetails {
  const redacted = (redactSecrets(details) ?? {}) as AuditDetails;
  const json = JSON.stringify(redacted);
  const bytes = Buffer.byteLength(json);
  if (bytes <= MAX_DETAILS_BYTES) return redacted;
  // Too big for one atomic line: keep a redacted preview and the size, so the cut is visible.
  return { truncated: true, bytes, preview: bound(json, DETAILS_PREVIEW_BYTES) };
}

/** The bytes `text` takes inside a JSON string (escapes included). */
function jsonBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text)) - 2;
}

/** Cuts `text` to at most `maxBytes` (as JSON), on a character boundary, marking the cut with `…`. */
function bound(text: string, maxBytes: number): string {
  if (jsonBytes(text) <= maxBytes) return text;
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const size = jsonBytes(ch);
    if (bytes + size > maxBytes - 3) break;
    out += ch;
    bytes += size;
  }
  return `${out}…`;
}
