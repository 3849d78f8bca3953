import { z } from 'zod';
import type { AnthropicBlock, AnthropicTool } from '../adapters/anthropic.js';

/**
 * The one way the model may answer: a call of `submit_diagnosis` whose input matches a schema built
 * from this incident's candidate runbooks. `recommendedRunbookId` is an enum of their ids plus
 * `null` (escalate), so the model can only choose, never name a runbook, a step, a command or an
 * argument of its own; and the same schema is enforced again here, because a schema sent is a
 * request, not a guarantee.
 */

export const TOOL_NAME = 'submit_diagnosis';

export interface DiagnosisAnswer {
  summary: string;
  probableCause: string;
  confidence: number;
  recommendedRunbookId: string | null;
  alternativeRunbookIds: string[];
}

/** The tool definition sent with the request. */
export function answerTool(candidateIds: readonly string[]): AnthropicTool {
  const ids = [...candidateIds];
  return {
    name: TOOL_NAME,
    description:
      'Submit your diagnosis of the incident. recommendedRunbookId must be one of the candidate runbook ids, or null to hand the incident to a human. This is the only way to answer.',
    inputSchema: {
      type: 'object',
      additionalProperties: false,
      required: ['summary', 'probableCause', 'confidence', 'recommendedRunbookId', 'alternativeRunbookIds'],
      properties: {
        summary: { type: 'string', description: 'One or two sentences for the operators.', maxLength: 600 },
        probableCause: {
          type: 'string',
          description: 'The most likely cause and the evidence for it.',
          maxLength: 1200,
        },
        confidence: { type: 'number', minimum: 0, maximum: 1 },
        recommendedRunbookId: {
          type: ['string', 'null'],
          enum: [...ids, null],
          description: 'A candidate runbook id, or null when no candidate fits and a human should decide.',
        },
        alternativeRunbookIds: {
          type: 'array',
          items: { type: 'string', enum: ids },
          uniqueItems: true,
          description: 'Other candidate ids worth offering, best first.',
        },
      },
    },
  };
}

function answerSchema(candidateIds: readonly string[]) {
  const id = z.string().refine((v) => candidateIds.includes(v), {
    message: `must be one of the candidate runbook ids (${candidateIds.join(', ') || 'none'})`,
  });
  return z.strictObject({
    summary: z.string().trim().min(1).max(2000),
    probableCause: z.string().trim().min(1).max(4000),
    confidence: z.number().min(0).max(1),
    recommendedRunbookId: id.nullable(),
    alternativeRunbookIds: z.array(id).max(candidateIds.length),
  });
}

export type AnswerCheck = { ok: true; answer: DiagnosisAnswer } | { ok: false; reason: string };

/** Reads the reply's content blocks: exactly one `submit_diagnosis` call whose input is valid. */
export function readAnswer(content: readonly AnthropicBlock[], candidateIds: readonly string[]): AnswerCheck {
  const calls = content.filter(
    (b): b is Extract<AnthropicBlock, { type: 'tool_use' }> => b.type === 'tool_use' && 'input' in b,
  );
  if (calls.length === 0)
    return { ok: false, reason: 'the model answered without the submit_diagnosis tool call' };
  if (calls.length > 1)
    return { ok: false, reason: `the model made ${calls.length} tool calls instead of one` };
  const call = calls[0]!;
  if (call.name !== TOOL_NAME)
    return { ok: false, reason: `the model called an unknown tool "${call.name.slice(0, 60)}"` };
  const parsed = answerSchema(candidateIds).safeParse(call.input);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join('.') || 'input'}: ${i.message}`)
      .join('; ');
    return { ok: false, reason: `the model's answer is invalid (${problems})` };
  }
  const answer = parsed.data;
  const alternatives = [...new Set(answer.alternativeRunbookIds)].filter(
    (a) => a !== answer.recommendedRunbookId,
  );
  return { ok: true, answer: { ...answer, alternativeRunbookIds: alternatives } };
}
