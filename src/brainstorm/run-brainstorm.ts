import type { Redis } from 'ioredis';
import { errorMessage } from '../errors.js';
import type { CommitResult, MemoryRepo } from '../memory/memory-repo.js';
import type { NoticeBus } from '../memory/notices.js';
import { redactText } from '../secrets/redact.js';
import type { Digest } from '../surfaces/chat-surface.js';
import { type BrainstormSources, computeReport } from './compute.js';
import { type ProseWriter, writeProse } from './prose.js';
import { renderMarkdown, summaryLines } from './render-markdown.js';
import type { BrainstormReport } from './report.js';
import type { ReportWindow } from './window.js';

/**
 * One Nightly Brainstorm: compute the report, write it to memory (`brainstorm/YYYY-MM-DD.md`, through
 * the secret guard, then the index), and post the digest. Safe to run twice: the report of a night is
 * the same file, an unchanged file is not committed again, and a scheduled run posts its digest once per
 * date. Memory trouble never loses the report: the digest carries the whole Markdown and says why
 * memory did not take it.
 */
export interface BrainstormDeps extends BrainstormSources {
  redis: Redis;
  prefix: string;
  notices: NoticeBus;
  /** Absent when memory is disabled. */
  memory?: MemoryRepo;
  prose?: ProseWriter;
}

export interface BrainstormRequest {
  window: ReportWindow;
  /** `schedule`, `cli:<user>`, a Slack user id. */
  trigger: string;
  /** Post the digest only if no run posted one for this date yet (scheduled runs). */
  oncePerDate?: boolean;
}

export type MemoryOutcome = CommitResult | { status: 'disabled' } | { status: 'failed'; error: string };

export interface BrainstormRun {
  report: BrainstormReport;
  markdown: string;
  /** Path of the report inside the memory repository. */
  path: string;
  memory: MemoryOutcome;
  digest: Digest;
  /** False when this date's digest was already posted by an earlier run. */
  posted: boolean;
}

const POSTED_TTL_S = 3 * 86_400;

export async function runBrainstorm(
  deps: BrainstormDeps,
  request: BrainstormRequest,
): Promise<BrainstormRun> {
  await deps.metrics.trim(deps.clock.now());
  const report = await computeReport(deps, request.window);
  if (deps.prose) {
    const written = await writeProse(deps.prose, report, renderMarkdown(report));
    if ('prose' in written) report.prose = written.prose;
    else report.notes.push(written.note);
  }
  const path = `brainstorm/${report.date}.md`;
  let markdown = renderMarkdown(report);
  let memory: MemoryOutcome = { status: 'disabled' };
  if (deps.memory) {
    try {
      memory = await deps.memory.commit([{ path, content: markdown }], `Nightly Brainstorm ${report.date}`);
      if (memory.status === 'committed') await deps.memory.refreshIndex();
    } catch (error) {
      memory = { status: 'failed', error: errorMessage(error) };
    }
    const problem = memoryProblem(memory);
    if (problem) {
      report.notes.push(problem);
      markdown = renderMarkdown(report);
    }
  }
  const inMemory = memory.status === 'committed' || memory.status === 'unchanged';
  const digest: Digest = {
    title: `Nightly Brainstorm — ${report.date}`,
    summary: digestSummary(report),
    // A report the guard refused may hold a credential: the chat gets it redacted.
    markdown: memory.status === 'blocked' ? redactText(markdown) : markdown,
    ...(inMemory ? { path } : {}),
  };
  let posted = true;
  if (request.oncePerDate) {
    const key = `${deps.prefix}:brainstorm:posted:${report.date}`;
    posted = (await deps.redis.set(key, request.trigger, 'EX', POSTED_TTL_S, 'NX')) === 'OK';
  }
  if (posted) await deps.notices.publish({ kind: 'digest', digest });
  return { report, markdown, path, memory, digest, posted };
}

/** What a human reads over coffee: the headline lines and the first suggestions. */
export function digestSummary(report: BrainstormReport): string {
  const top = report.suggestions.slice(0, 5).map((s) => `• ${s.title}`);
  const more =
    report.suggestions.length > 5 ? [`…and ${report.suggestions.length - 5} more in the report.`] : [];
  return redactText(
    [...(report.prose ? [report.prose] : []), ...summaryLines(report), ...top, ...more].join('\n'),
  );
}

/** What the report says when memory did not take it (nothing when it did). */
function memoryProblem(memory: MemoryOutcome): string | undefined {
  if (memory.status === 'failed') return `The report could not be written to memory (${memory.error}).`;
  if (memory.status === 'blocked')
    return 'The report was refused by the memory secret guard (it held a credential) and quarantined, redacted.';
  return undefined;
}
