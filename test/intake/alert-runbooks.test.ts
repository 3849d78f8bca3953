import { afterAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/runbooks/catalog.js';
import { formatProblem } from '../../src/runbooks/runbook.js';
import { removeRunbookDirs, runbookDir } from '../fixtures/runbooks/temp-runbooks.js';
import { ALERT_RUNBOOK } from './harness.js';

afterAll(removeRunbookDirs);

function lint(name: string, text: string) {
  const dir = runbookDir({ [name]: text });
  const catalog = loadCatalog(dir);
  const show = (p: Parameters<typeof formatProblem>[0]) => formatProblem(p, dir);
  return { catalog, errors: catalog.errors.map(show), warnings: catalog.warnings.map(show) };
}

describe('runbook lint for check: alert (open conditions, labels as facts)', () => {
  it('accepts any alertname as a condition; a label read by a step is a warning, not an error', () => {
    const { catalog, errors, warnings } = lint('alert-pod-restart.md', ALERT_RUNBOOK);
    expect(errors).toEqual([]);
    expect(catalog.get('alert-pod-restart')?.match).toEqual({
      check: 'alert',
      condition: ['KubePodCrashLooping'],
    });
    expect(warnings).toEqual([
      expect.stringMatching(
        /^alert-pod-restart\.md:10: warning: steps\[0\]\.kubernetes\.deletePod\.namespace: \{\{facts\.namespace\}\}: alert facts are the alert's labels, and not every alert carries "namespace"/,
      ),
      expect.stringMatching(
        /^alert-pod-restart\.md:11: warning: steps\[0\]\.kubernetes\.deletePod\.pod: \{\{facts\.pod\}\}: alert facts/,
      ),
    ]);
  });

  it('reads any label, and the facts Reef always sets without a warning', () => {
    const text = ALERT_RUNBOOK.replace('KubePodCrashLooping]', 'MyTeamAppDown, Watchdog]')
      .replace('"{{facts.namespace}}"', '"{{facts.team_namespace}}"')
      .replace('"{{facts.pod}}"', '"{{facts.alertname}}"');
    const { errors, warnings } = lint('alert-pod-restart.md', text);
    expect(errors).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/\{\{facts\.team_namespace\}\}: alert facts are the alert's labels/);
  });

  it('still refuses unknown conditions of the other checks, and template fields that do not exist', () => {
    const pods = ALERT_RUNBOOK.replace('check: alert', 'check: pods');
    expect(lint('alert-pod-restart.md', pods).errors).toContainEqual(
      expect.stringMatching(
        /match\.condition\[0\]: pods findings never have condition "KubePodCrashLooping"/,
      ),
    );
    const badField = ALERT_RUNBOOK.replace('"{{facts.pod}}"', '"{{labels.pod}}"');
    expect(lint('alert-pod-restart.md', badField).errors).toEqual([
      expect.stringMatching(/unknown template field \{\{labels\.pod\}\}/),
    ]);
  });
});
