import { z } from 'zod';
import { duration } from '../config/schema.js';
import { CHECK_KINDS } from '../findings/finding.js';
import { RUNBOOK_MODES, RUNBOOK_RISKS } from './runbook.js';

/**
 * The shape of a runbook's front matter. Objects are strict: a misspelt key (`verfy:`) would otherwise
 * silently drop a guard. Steps are only "a list" here; lint-steps.ts checks each against its executor.
 * Rules across fields (verify required by mode, conditions the check reports, templates) are in
 * parse-runbook.ts, where they can point at the right line.
 */

const KEBAB = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

export const runbookId = z
  .string()
  .max(64)
  .regex(KEBAB, 'must be kebab-case: lowercase letters and digits in words joined by "-" (e.g. pod-restart)');

const glob = z.string().min(1, 'must not be empty');

const absoluteDir = z
  .string()
  .refine((p) => p.startsWith('/'), 'must be an absolute path (starting with /)')
  .refine((p) => !/[{}*?[\]]/.test(p), 'roots are fixed directories: no templates or globs here')
  .refine(
    (p) =>
      p
        .split('/')
        .every((s, i, all) => (s !== '' || i === 0 || i === all.length - 1) && s !== '.' && s !== '..'),
    'must be a normalised path (no "..", "." or "//")',
  )
  .refine((p) => p.replace(/\/+$/, '') !== '', 'must not be "/" (that is every file on the host)')
  .transform((p) => p.replace(/\/+$/, ''));

const argv = z
  .array(z.string({ error: 'must be a string (quote numbers: "1")' }), {
    error:
      'must be a list of arguments (argv), never a shell command line: ["journalctl", "--vacuum-size={{size}}"]',
  })
  .min(1, 'needs at least the program to run');

export const frontMatterSchema = z.strictObject({
  id: runbookId,
  title: z.string().trim().min(1, 'must not be empty'),
  match: z.strictObject({
    check: z.enum(CHECK_KINDS),
    condition: z.union([
      z.string().min(1, 'must not be empty'),
      z.array(z.string().min(1, 'must not be empty')).min(1, 'needs at least one condition'),
    ]),
    target: z.union([glob, z.array(glob).min(1, 'needs at least one target')]).optional(),
    severity: z.enum(['warning', 'critical']).optional(),
  }),
  mode: z.enum(RUNBOOK_MODES).default('approve'),
  risk: z.enum(RUNBOOK_RISKS),
  stateful: z.boolean().default(false),
  idempotent: z.boolean().default(false),
  limits: z
    .strictObject({
      perTargetPerHour: z.number().int('must be a whole number').min(1, 'must be at least 1').default(3),
      perTargetPerDay: z.number().int('must be a whole number').min(1, 'must be at least 1').optional(),
      // What "the same target" is for the limits and the escalation count. A restarted pod comes back
      // with a new name, so pod runbooks count per owner: "{{facts.namespace}}/{{facts.ownerName}}".
      target: z.string().min(1, 'must not be empty').default('{{target}}'),
    })
    .default({ perTargetPerHour: 3, target: '{{target}}' }),
  commands: z
    .record(z.string().regex(KEBAB, 'command names must be kebab-case (e.g. journal-vacuum)'), argv)
    .default({}),
  roots: z.array(absoluteDir).default([]),
  steps: z
    .array(z.unknown(), { error: 'must be a list of steps: - <executor type>: { params }' })
    .min(1, 'needs at least one step'),
  verify: z.strictObject({ after: duration }).optional(),
  alternatives: z
    .array(z.union([runbookId, z.literal('escalate')]), {
      error: 'must be a list of runbook ids or "escalate"',
    })
    .default([]),
  escalation: z
    .strictObject({
      afterRuns: z.number().int('must be a whole number').min(1, 'must be at least 1'),
      message: z.string().trim().min(1, 'must not be empty'),
    })
    .optional(),
  notes: z.string().optional(),
});

export type FrontMatterFields = z.output<typeof frontMatterSchema>;
