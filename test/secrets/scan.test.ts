import { describe, expect, it } from 'vitest';
import { scanForSecrets } from '../../src/secrets/scan.js';
import { LOOK_ALIKES, SECRET_CORPUS } from './corpus.js';

describe('scanForSecrets', () => {
  it.each(SECRET_CORPUS.map((s) => [s.kind, s] as const))('finds a %s', async (_kind, sample) => {
    const hits = await scanForSecrets(sample.line);
    expect(hits.length).toBeGreaterThan(0);
    const at = sample.line.indexOf(sample.secret);
    expect(hits.some((h) => h.start <= at && at < h.end)).toBe(true);
  });

  it('finds nothing in look-alikes (git SHAs, UUIDs, image data, pod names, digests, certificates)', async () => {
    const hits = await scanForSecrets(LOOK_ALIKES.join('\n'));
    expect(hits).toEqual([]);
  });

  it('does not fire on prose about credentials', async () => {
    const note =
      '# Incident 42\n\nThe password: rotated on Monday. secret: none leaked.\nToken refresh failed; retried.\n';
    expect(await scanForSecrets(note, { fileName: 'incidents/42.md' })).toEqual([]);
  });

  it('reports 1-based line and column and offsets, from secretlint and from Reef rules, never the value', async () => {
    const slack = SECRET_CORPUS.find((s) => s.kind === 'slack bot token')!;
    const stripe = SECRET_CORPUS.find((s) => s.kind === 'stripe secret key')!;
    const text = `# notes\n\nfirst: ${slack.secret}\n  then ${stripe.secret}\n`;
    const hits = await scanForSecrets(text, { fileName: 'notes.md' });
    expect(hits.map((h) => [h.ruleId, h.line, h.column])).toEqual([
      ['@secretlint/secretlint-rule-slack', 3, 8],
      ['reef/stripe-key', 4, 8],
    ]);
    for (const hit of hits) {
      expect(hit.message).not.toContain(slack.secret);
      expect(hit.message).not.toContain(stripe.secret);
      expect(hit.message.length).toBeGreaterThan(5);
    }
    expect(text.slice(hits[1]!.start, hits[1]!.end)).toBe(stripe.secret);
  });

  it('reports a secret once even when secretlint and a Reef rule both see it', async () => {
    const gh = SECRET_CORPUS.find((s) => s.kind === 'github classic token')!;
    const hits = await scanForSecrets(`token ${gh.secret}`);
    expect(hits).toHaveLength(1);
  });

  it('an empty text has no hits', async () => {
    expect(await scanForSecrets('')).toEqual([]);
  });
});
