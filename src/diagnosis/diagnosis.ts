/**
 * What a diagnoser concluded about an incident (DESIGN.md §5). Stored on the incident, shown by every
 * surface, and read by the decision: `recommendedRunbookId` is always one of the candidate runbooks'
 * ids, or `null` for "escalate to a human".
 */
export interface Diagnosis {
  /** One or two sentences for the incident message. */
  summary: string;
  probableCause: string;
  /** 0..1. */
  confidence: number;
  recommendedRunbookId: string | null;
  alternativeRunbookIds: string[];
  /** Which diagnoser answered. */
  diagnoser: 'rules' | 'anthropic';
  /** When the LLM was asked but its answer was not used: why (shown with the rule diagnosis). */
  fallbackReason?: string;
  /** ISO-8601. */
  at: string;
  /** For an LLM diagnosis: the model that answered. */
  model?: string;
  /** For an LLM call (answered or not): its tokens and estimated cost, from the ledger's price table. */
  usage?: { inputTokens: number; outputTokens: number; costUsd: number };
  /** True when this diagnosis was reused from the cache (no call was made for it). */
  cached?: boolean;
}
