import { type Document, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import { offsetOfPath } from '../util/yaml-paths.js';

/** A runbook file cut in two: the YAML between the `---` lines, and the Markdown prose after them. */
export interface FrontMatter {
  /** The parsed YAML document (check `errors` first). */
  doc: Document.Parsed;
  /** The YAML as plain data (undefined when it did not parse). */
  data: unknown;
  /** YAML syntax errors, each with its line in the file. */
  syntaxErrors: { line: number; message: string }[];
  /** The line in the file of a YAML path (its key's line), or of the front matter's start. */
  lineOf(path: readonly PropertyKey[]): number;
  /** Paths of unquoted `{{…}}` values (YAML reads them as nested maps), with their lines. */
  unquotedTemplates: { path: PropertyKey[]; line: number }[];
  prose: string;
}

const FENCE = /^---[ \t]*$/;
const END = /^(?:---|\.\.\.)[ \t]*$/;

/** Splits and parses a runbook file, or says why it has no front matter to parse. */
export function readFrontMatter(text: string): FrontMatter | { error: string; line: number } {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (!FENCE.test(lines[0] ?? '')) {
    return {
      line: 1,
      error:
        'no front matter: a runbook starts with a line "---", then its YAML fields (id, title, match, steps…), then "---", then the prose',
    };
  }
  const end = lines.findIndex((line, i) => i > 0 && END.test(line));
  if (end === -1) {
    return { line: 1, error: 'the front matter opened by "---" on line 1 is never closed by a "---" line' };
  }
  const yamlText = lines.slice(1, end).join('\n');
  // The YAML starts on the file's line 2: every position the parser reports is shifted by one line.
  const offset = 1;
  const counter = new LineCounter();
  const doc = parseDocument(yamlText, {
    lineCounter: counter,
    prettyErrors: true,
    uniqueKeys: true,
    // An unquoted template is a map used as a key; we report it ourselves, without the library's warning.
    logLevel: 'error',
  });
  const syntaxErrors = doc.errors.map((e) => ({
    line: (e.linePos?.[0].line ?? 1) + offset,
    message: (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, ''),
  }));
  const lineOfOffset = (at: number | undefined) => (at === undefined ? 1 : counter.linePos(at).line) + offset;
  return {
    doc,
    data: syntaxErrors.length > 0 ? undefined : doc.toJS(),
    syntaxErrors,
    lineOf: (path) => lineOfOffset(offsetOfPath(doc.contents, path)),
    unquotedTemplates: findUnquotedTemplates(doc.contents, yamlText, []).map((path) => ({
      path,
      line: lineOfOffset(offsetOfPath(doc.contents, path)),
    })),
    prose: lines.slice(end + 1).join('\n'),
  };
}

/**
 * `pod: {{facts.pod}}` without quotes is YAML for a map inside a map, not a template: the schema would
 * then say "expected string", which hides the real mistake. Find those to name it.
 */
function findUnquotedTemplates(node: unknown, source: string, at: PropertyKey[]): PropertyKey[][] {
  if (isMap(node)) {
    const start = node.range?.[0];
    if (node.flow && start !== undefined && source.startsWith('{{', start)) return [at];
    return node.items.flatMap((item) =>
      isPair(item) && isScalar(item.key)
        ? findUnquotedTemplates(item.value, source, [...at, String(item.key.value)])
        : [],
    );
  }
  if (isSeq(node)) return node.items.flatMap((item, i) => findUnquotedTemplates(item, source, [...at, i]));
  return [];
}
