import { lintSource } from '@secretlint/core';
import { creator as recommendedPreset } from '@secretlint/secretlint-rule-preset-recommend';
import { findSecrets } from './find.js';

/**
 * The secret scan run before anything is committed to the memory repository. It runs secretlint's
 * maintained recommended preset, then Reef's own rules (`SECRET_RULES`, in strict mode so prose
 * does not trip it) for what the preset does not cover, and reports each secret once. A hit's
 * message names the kind of secret, never its value, so it can go into an alert as it is.
 */
export interface SecretHit {
  /** `@secretlint/secretlint-rule-…` for preset hits, `reef/<id>` for Reef's rules. */
  ruleId: string;
  message: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** Character offsets into the scanned text, half-open. */
  start: number;
  end: number;
}

const CONFIG: Parameters<typeof lintSource>[0]['options']['config'] = {
  rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rule: recommendedPreset }],
};

/** 1-based line and column of each offset, from one pass over the line starts. */
function locator(text: string): (offset: number) => { line: number; column: number } {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - (starts[lo] ?? 0) + 1 };
  };
}

/**
 * Every secret in `text`, sorted by position. `fileName` lets secretlint's rules that look at the
 * file type (for example `.npmrc`, `.p12`) apply; it is never read from disk.
 */
export async function scanForSecrets(
  text: string,
  options: { fileName?: string } = {},
): Promise<SecretHit[]> {
  const result = await lintSource({
    source: { content: text, filePath: options.fileName ?? 'input.txt', contentType: 'text' },
    options: { config: CONFIG, maskSecrets: true, noPhysicFilePath: options.fileName === undefined },
  });
  const at = locator(text);
  const hits: SecretHit[] = [];
  for (const message of result.messages) {
    const [start, end] = message.range;
    hits.push({ ruleId: message.ruleId, message: message.message, ...at(start), start, end });
  }
  for (const match of findSecrets(text, true)) {
    if (hits.some((h) => match.start < h.end && h.start < match.end)) continue;
    hits.push({
      ruleId: `reef/${match.rule.id}`,
      message: `found ${match.rule.description}`,
      ...at(match.start),
      start: match.start,
      end: match.end,
    });
  }
  return hits.sort((a, b) => a.start - b.start);
}
