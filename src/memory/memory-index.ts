/**
 * `index.md` of the memory repository: what Reef keeps there and a link to every Brainstorm report and
 * incident note, newest first. Rebuilt from the files themselves, so a note the secret guard refused is
 * never linked.
 */
export function renderIndex(
  reports: readonly string[],
  notes: readonly { path: string; title: string }[],
): string {
  const lines = [
    '# Reef memory',
    '',
    'Reef writes this repository itself: a Markdown note for every resolved or escalated incident and',
    'the Nightly Brainstorm reports. Every commit is secret-scanned first; a file holding a credential is',
    'refused, quarantined outside the repository (redacted) and reported.',
    '',
    '## Nightly Brainstorm',
    '',
    ...(reports.length === 0
      ? ['None yet.']
      : [...reports]
          .reverse()
          .map((p) => `- [${p.replace(/^brainstorm\//, '').replace(/\.md$/, '')}](${p})`)),
    '',
    '## Incidents',
    '',
    ...(notes.length === 0
      ? ['None yet.']
      : [...notes].reverse().map((n) => `- [${n.title.replaceAll(']', '\\]')}](${n.path})`)),
  ];
  return `${lines.join('\n')}\n`;
}
