import path from 'node:path';
import type { RunbookBounds } from '../executors/executor.js';
import type { CheckKind, Severity } from '../findings/finding.js';

export const RUNBOOK_MODES = ['off', 'suggest', 'approve', 'auto'] as const;
/** `auto` runs at once, `approve` asks in chat, `suggest` only proposes, `off` is never matched. */
export type RunbookMode = (typeof RUNBOOK_MODES)[number];

export const RUNBOOK_RISKS = ['low', 'medium', 'high'] as const;
export type RunbookRisk = (typeof RUNBOOK_RISKS)[number];

/** The alternative that hands the incident to a human instead of another runbook. */
export const ESCALATE = 'escalate';

export interface RunbookMatch {
  check: CheckKind;
  /** As written: one condition, or a list (a single one is the more specific match). */
  condition: string | string[];
  /** As written: one glob over finding targets, or a list of them; absent = every target. */
  target?: string | string[];
  /** The least severity matched (`warning` matches warnings and criticals). */
  severity?: Exclude<Severity, 'ok'>;
}

/** The match's conditions as a list. */
export function conditionsOf(match: Pick<RunbookMatch, 'condition'>): string[] {
  return typeof match.condition === 'string' ? [match.condition] : match.condition;
}

/** One typed step: an executor type from the registry and its params, templates still in place. */
export interface RunbookStep {
  type: string;
  params: unknown;
  /** Line of the step in the runbook file. */
  line: number;
}

/**
 * A runbook as loaded: the front matter validated and normalised, the prose kept verbatim (it is text
 * for humans and the diagnosis; its fenced code blocks are never executed).
 */
export interface Runbook {
  id: string;
  title: string;
  /** Absolute path of the file. */
  file: string;
  match: RunbookMatch;
  mode: RunbookMode;
  risk: RunbookRisk;
  /** `high` risk needs two distinct approvers; the approval surface enforces it. */
  approvalsRequired: 1 | 2;
  /** Whether it may act on pods owned by a StatefulSet or using persistent volumes. */
  stateful: boolean;
  /** Whether a failed mutating step may be retried. */
  idempotent: boolean;
  /**
   * Runs allowed per target, and what counts as one target (a template, `{{target}}` by default; see
   * `limitKey` in render.ts).
   */
  limits: { perTargetPerHour: number; perTargetPerDay?: number; target: string };
  commands: Readonly<Record<string, readonly string[]>>;
  roots: readonly string[];
  steps: readonly RunbookStep[];
  /** When the originating check runs again; absent only for `off` and `suggest` runbooks. */
  verify?: { after: string; afterMs: number };
  /** Runbook ids (or `escalate`) to offer instead, in order. */
  alternatives: readonly string[];
  /** Said to the humans once this runbook has run `afterRuns` times on the same target within a day. */
  escalation?: { afterRuns: number; message: string };
  notes?: string;
  /** The Markdown after the front matter. */
  prose: string;
}

/** What executors may check a step against. */
export function boundsOf(runbook: Runbook): RunbookBounds {
  return {
    id: runbook.id,
    dir: path.dirname(runbook.file),
    commands: runbook.commands,
    roots: runbook.roots,
    idempotent: runbook.idempotent,
    stateful: runbook.stateful,
  };
}

/** One problem found while loading runbooks, where it is, and whether it stops the runbook loading. */
export interface RunbookProblem {
  severity: 'error' | 'warning';
  /** Absolute path of the file. */
  file: string;
  line: number;
  /** Field path in the front matter (`steps[0].kubernetes.deletePod.pod`), empty for the whole file. */
  path: string;
  message: string;
}

/** `runbooks/pod-restart.md:9: steps[0].kubernetes.deletePod.pod: …`, the file relative to `cwd`. */
export function formatProblem(problem: RunbookProblem, cwd = process.cwd()): string {
  const relative = path.relative(cwd, problem.file);
  const file = relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : problem.file;
  const where = problem.path ? `${problem.path}: ` : '';
  const level = problem.severity === 'warning' ? 'warning: ' : '';
  return `${file}:${problem.line}: ${level}${where}${problem.message}`;
}
