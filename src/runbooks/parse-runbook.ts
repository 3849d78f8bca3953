import path from 'node:path';
import type { StepExecutor } from '../executors/executor.js';
import type { CheckKind } from '../findings/finding.js';
import { parseDuration } from '../util/duration.js';
import { acceptsAnyCondition, problemConditions } from './facts.js';
import { readFrontMatter } from './front-matter.js';
import { lintSteps } from './lint-steps.js';
import { checkTemplates } from './lint-templates.js';
import { ProblemSink } from './problem-sink.js';
import { boundsOf, conditionsOf, ESCALATE, type Runbook, type RunbookProblem } from './runbook.js';
import { frontMatterSchema } from './schema.js';
import { schemaProblems } from './zod-issues.js';

const MAX_VERIFY_MS = 24 * 3_600_000;

export interface ParsedRunbook {
  /** Undefined when the file has any error. */
  runbook: Runbook | undefined;
  problems: RunbookProblem[];
  /** The line of a front matter field, for problems found later (across files). */
  lineOf(path: readonly PropertyKey[]): number;
  /** The id as written, even when the runbook did not load (to find duplicates). */
  id?: string | undefined;
}

/**
 * Parses one runbook file. Every problem in the file is reported at once; a runbook with any error is
 * not returned (it must never half-load). Cross-file rules (duplicate ids, alternatives) are the
 * catalog's.
 */
export function parseRunbook(
  text: string,
  file: string,
  executors: Readonly<Record<string, StepExecutor<unknown>>>,
): ParsedRunbook {
  const front = readFrontMatter(text);
  if ('error' in front) {
    return {
      runbook: undefined,
      problems: [{ severity: 'error', file, line: front.line, path: '', message: front.error }],
      lineOf: () => front.line,
    };
  }
  const sink = new ProblemSink(file, front.lineOf);
  let id: string | undefined;
  const failed = (): ParsedRunbook => ({
    runbook: undefined,
    problems: sink.problems,
    lineOf: front.lineOf,
    id,
  });
  for (const e of front.syntaxErrors) {
    sink.problems.push({
      severity: 'error',
      file,
      line: e.line,
      path: '',
      message: `invalid YAML: ${e.message}`,
    });
  }
  if (front.syntaxErrors.length > 0) return failed();
  if (typeof front.data !== 'object' || front.data === null || Array.isArray(front.data)) {
    sink.error([], 'the front matter must be a YAML mapping of fields (id: …, title: …, match: …, steps: …)');
    return failed();
  }
  const written = (front.data as { id?: unknown }).id;
  if (typeof written === 'string') id = written;
  for (const u of front.unquotedTemplates) {
    sink.error(u.path, 'unquoted template: YAML reads {{…}} as a map; put it in quotes ("{{facts.pod}}")');
  }
  const parsed = frontMatterSchema.safeParse(front.data);
  if (!parsed.success) {
    for (const p of schemaProblems(frontMatterSchema, parsed.error, front.data))
      sink.error(p.path, p.message);
    return failed();
  }
  const fields = parsed.data;
  const conditions = conditionsOf(fields.match);
  const runbook: Runbook = {
    id: fields.id,
    title: fields.title,
    file,
    match: fields.match,
    mode: fields.mode,
    risk: fields.risk,
    approvalsRequired: fields.risk === 'high' ? 2 : 1,
    stateful: fields.stateful,
    idempotent: fields.idempotent,
    limits: fields.limits,
    commands: fields.commands,
    roots: fields.roots,
    steps: [],
    alternatives: fields.alternatives,
    prose: front.prose,
  };
  if (fields.verify)
    runbook.verify = { after: fields.verify.after, afterMs: parseDuration(fields.verify.after)! };
  if (fields.escalation) runbook.escalation = fields.escalation;
  if (fields.notes !== undefined) runbook.notes = fields.notes;

  checkRules(runbook, conditions, fields.match.check, sink);
  checkMessage(runbook, conditions, sink);
  checkLimitTarget(runbook, conditions, sink);
  checkCommands(runbook, sink);
  // A step with an unquoted template is already reported; its params are not what the author meant.
  const garbled = new Set(front.unquotedTemplates.filter((u) => u.path[0] === 'steps').map((u) => u.path[1]));
  runbook.steps = lintSteps(fields.steps, {
    sink,
    front,
    executors,
    check: fields.match.check,
    conditions,
    bounds: boundsOf(runbook),
    skip: (index) => garbled.has(index),
  });
  return { runbook: sink.failed ? undefined : runbook, problems: sink.problems, lineOf: front.lineOf, id };
}

function checkRules(runbook: Runbook, conditions: string[], check: CheckKind, sink: ProblemSink): void {
  const expected = path.basename(sink.file, '.md');
  if (runbook.id !== expected) {
    sink.warn(
      ['id'],
      `"${runbook.id}" differs from the file name (${expected}.md): name the file after the id so people find it`,
    );
  }
  const known = problemConditions(check);
  const at = Array.isArray(runbook.match.condition)
    ? (i: number) => ['match', 'condition', i]
    : () => ['match', 'condition'];
  conditions.forEach((condition, i) => {
    if (condition === 'ok') sink.error(at(i), 'a runbook never matches "ok": healthy targets need no fix');
    // An alert's condition is its alertname: any name Alertmanager may send.
    else if (!known.includes(condition) && !acceptsAnyCondition(check))
      sink.error(
        at(i),
        `${check} findings never have condition "${condition}" (they have: ${known.join(', ')})`,
      );
  });
  if (runbook.verify === undefined && runbook.mode !== 'off' && runbook.mode !== 'suggest') {
    sink.error(
      ['verify'],
      `required in mode ${runbook.mode}: how long after the steps the check runs again to confirm the fix (e.g. verify: { after: 2m })`,
    );
  }
  if (runbook.verify && (runbook.verify.afterMs < 1000 || runbook.verify.afterMs > MAX_VERIFY_MS)) {
    sink.error(['verify', 'after'], 'must be between 1s and 24h');
  }
  if (runbook.mode === 'auto' && runbook.risk === 'high') {
    sink.error(['mode'], 'a high-risk runbook needs two approvers, so it cannot run in mode auto');
  }
  const { perTargetPerHour, perTargetPerDay } = runbook.limits;
  if (perTargetPerDay !== undefined && perTargetPerDay < perTargetPerHour) {
    sink.error(['limits', 'perTargetPerDay'], `must be at least perTargetPerHour (${perTargetPerHour})`);
  }
  const afterRuns = runbook.escalation?.afterRuns;
  if (afterRuns !== undefined && perTargetPerDay !== undefined && afterRuns > perTargetPerDay) {
    sink.warn(
      ['escalation', 'afterRuns'],
      `is above limits.perTargetPerDay (${perTargetPerDay}): the runbook stops before the message is ever said`,
    );
  }
  runbook.alternatives.forEach((alt, i) => {
    if (alt === runbook.id) sink.error(['alternatives', i], 'a runbook cannot be its own alternative');
  });
  const seen = new Set<string>();
  runbook.alternatives.forEach((alt, i) => {
    if (seen.has(alt)) sink.warn(['alternatives', i], `"${alt}" is listed twice`);
    seen.add(alt);
  });
  if (runbook.alternatives.includes(ESCALATE) && runbook.alternatives.at(-1) !== ESCALATE) {
    sink.warn(['alternatives'], '"escalate" ends the list: alternatives after it are never offered');
  }
}

/** The escalation message is prose: fields must exist, but a missing fact only renders as "unknown". */
function checkMessage(runbook: Runbook, conditions: string[], sink: ProblemSink): void {
  if (!runbook.escalation) return;
  checkTemplates(
    runbook.escalation.message,
    ['escalation', 'message'],
    'message',
    runbook.match.check,
    conditions,
    sink,
  );
}

function checkLimitTarget(runbook: Runbook, conditions: string[], sink: ProblemSink): void {
  checkTemplates(
    runbook.limits.target,
    ['limits', 'target'],
    'message',
    runbook.match.check,
    conditions,
    sink,
  );
}

function checkCommands(runbook: Runbook, sink: ProblemSink): void {
  for (const [name, argv] of Object.entries(runbook.commands)) {
    argv.forEach((arg, i) => {
      const at = ['commands', name, i];
      if (i === 0 && arg.includes('{{')) {
        sink.error(at, 'the program of a command is fixed: templates may only fill its arguments');
      } else if (i === 0 && arg.trim() === '') {
        sink.error(at, 'the program must not be empty');
      } else {
        checkTemplates(arg, at, 'command', runbook.match.check, conditionsOf(runbook.match), sink);
      }
    });
  }
}
