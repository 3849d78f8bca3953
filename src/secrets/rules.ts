import { CONTEXT_RULES } from './context-rules.js';
import type { SecretRule } from './secret-rule.js';
import { VENDOR_RULES } from './vendor-rules.js';

/**
 * Every rule Reef applies, shape rules first so a token inside a `token=` pair is named after its
 * vendor. Adding a rule here adds it to redaction and to the commit-guard scan at once.
 */
export const SECRET_RULES: readonly SecretRule[] = [...VENDOR_RULES, ...CONTEXT_RULES];
