import { redactText } from '../secrets/redact.js';
import type { BrainstormReport } from './report.js';

/**
 * The seam for an LLM-written summary. The numbers always come from code: the writer gets the computed
 * report (redacted) and returns a short paragraph, which is kept only if every number it cites is one of
 * the report's own. Without a writer (no LLM key), the report's summary lines are the summary.
 */
export interface ProseWriter {
  /** `facts` is the report as redacted JSON; returns a few sentences for humans. */
  summarize(facts: string): Promise<string>;
}

/** The report as the writer sees it: JSON without the prose, every string redacted. */
export function proseInput(report: BrainstormReport): string {
  const { prose: _prose, ...numbers } = report;
  return redactText(JSON.stringify(numbers));
}

/**
 * Whether `prose` cites only numbers found in `reference` (the rendered report). `12.5 %` and `12.50`
 * are the same number; a number the code never computed ("about 20 incidents") fails the check.
 */
export function checkProse(
  prose: string,
  reference: string,
): { ok: true } | { ok: false; invented: string[] } {
  const known = new Set(numbersIn(reference).map(canonical));
  const invented = [...new Set(numbersIn(prose))].filter((n) => !known.has(canonical(n)));
  return invented.length === 0 ? { ok: true } : { ok: false, invented };
}

/**
 * Number tokens: a date (`2026-12-02`) or a time (`04:00`) is one token, so the 12 in a date does not
 * license "12 disks"; anything else is a plain number (`4`, `12.5`, `4,5`).
 */
function numbersIn(text: string): string[] {
  return text.match(/\d{4}-\d{2}-\d{2}|\d{1,2}:\d{2}(?::\d{2})?|\d+(?:[.,]\d+)?/g) ?? [];
}

function canonical(token: string): string {
  if (/[-:]/.test(token)) return token;
  return String(Number(token.replace(',', '.')));
}

/** Asks the writer and checks its answer; returns the prose to keep, or a note saying why there is none. */
export async function writeProse(
  writer: ProseWriter,
  report: BrainstormReport,
  reference: string,
): Promise<{ prose: string } | { note: string }> {
  let prose: string;
  try {
    prose = (await writer.summarize(proseInput(report))).trim();
  } catch (error) {
    return {
      note: `The LLM summary was not written (${error instanceof Error ? error.message : String(error)}).`,
    };
  }
  if (!prose) return { note: 'The LLM returned no summary.' };
  const check = checkProse(prose, reference);
  if (!check.ok)
    return {
      note: `The LLM summary was dropped: it cited ${check.invented.join(', ')}, which the computed numbers do not contain.`,
    };
  return { prose: redactText(prose) };
}
