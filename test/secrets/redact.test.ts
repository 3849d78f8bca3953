import { describe, expect, it } from 'vitest';
import { redactSecrets } from '../../src/audit/redact.js';
import { credentialKeyKind } from '../../src/secrets/credential-keys.js';
import { redactDeep, redactText } from '../../src/secrets/redact.js';
import { SECRET_RULES } from '../../src/secrets/rules.js';
import { LOOK_ALIKES, SECRET_CORPUS } from './corpus.js';

describe('redactText', () => {
  it('covers at least 30 kinds of secret in the corpus', () => {
    expect(new Set(SECRET_CORPUS.map((s) => s.kind)).size).toBeGreaterThanOrEqual(30);
  });

  it.each(SECRET_CORPUS.map((s) => [s.kind, s] as const))(
    'hides a %s and leaves a marker',
    (_kind, sample) => {
      expect(sample.secret.length).toBeGreaterThan(5);
      expect(sample.line).toContain(sample.secret);
      const out = redactText(sample.line);
      expect(out).not.toContain(sample.secret);
      expect(out).toMatch(/\[REDACTED:[a-z0-9-]+\]/);
    },
  );

  it('keeps the words around a secret, so the line still reads', () => {
    const line = 'login attempt user=admin password=Xk9!pQ2#zz from 10.0.0.7';
    expect(redactText(line)).toBe(
      'login attempt user=admin password=[REDACTED:credential-assignment] from 10.0.0.7',
    );
  });

  it.each(LOOK_ALIKES.map((l) => [l.slice(0, 60), l] as const))(
    'leaves a look-alike alone: %s',
    (_label, text) => {
      expect(redactText(text)).toBe(text);
    },
  );

  it('is idempotent: redacting a redacted text changes nothing', () => {
    const all = SECRET_CORPUS.map((s) => s.line).join('\n');
    const once = redactText(all);
    expect(redactText(once)).toBe(once);
  });

  it('hides every secret of a whole corpus in one text, however they are packed together', () => {
    const all = SECRET_CORPUS.map((s) => s.line).join(' ');
    const out = redactText(all);
    for (const sample of SECRET_CORPUS) expect(out, sample.kind).not.toContain(sample.secret);
  });

  it('hides private keys in every armour: encrypted headers, YAML indentation, PGP blocks, cut off', () => {
    const body = SECRET_CORPUS.find((x) => x.kind === 'rsa private key')!.secret;
    const texts = [
      `-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,3F1A\n\n${body}\n${body}\n-----END RSA PRIVATE KEY-----`,
      `tls.key: |\n    -----BEGIN EC PRIVATE KEY-----\n    ${body}\n    ${body}\n    -----END EC PRIVATE KEY-----\nnext: value`,
      `-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\n\n${body}\n=AbCd\n-----END PGP PRIVATE KEY BLOCK-----`,
      `-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\n${body.slice(0, 40)}`,
    ];
    for (const text of texts) {
      const out = redactText(text);
      expect(out).not.toContain(body.slice(0, 40));
      expect(out).toContain('[REDACTED:private-key]');
    }
    expect(redactText(texts[1]!)).toMatch(/\nnext: value$/);
  });

  it('leaves placeholders and templates alone', () => {
    for (const text of [
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal template is the point
      'password=${DB_PASSWORD}',
      'token: <your token>',
      'password: ********',
      'secret={{ .Values.s }}',
    ])
      expect(redactText(text)).toBe(text);
  });

  it('every rule has a global pattern with indices and a kebab-case id, each id once', () => {
    const ids = SECRET_RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const rule of SECRET_RULES) {
      expect(rule.id).toMatch(/^[a-z0-9]+(?:-[a-z0-9]+)*$/);
      expect(rule.pattern.flags).toContain('g');
      expect(rule.pattern.flags).toContain('d');
    }
  });
});

describe('credential key names', () => {
  it('knows credential names in any case style and leaves references and look-alikes alone', () => {
    for (const key of [
      'password',
      'DB_PASSWORD',
      'clientSecret',
      'privateKey',
      'x-api-key',
      'SLACK_BOT_TOKEN',
      'apiKey',
    ])
      expect(credentialKeyKind(key), key).toBeDefined();
    for (const key of [
      'keyboard',
      'monkey',
      'secretName',
      'passwordFile',
      'tokenCount',
      'bypass',
      'podName',
      'key',
    ])
      expect(credentialKeyKind(key), key).toBeUndefined();
  });
});

describe('redactDeep', () => {
  it('hides values under credential names and secrets inside any string, at any depth, without changing the input', () => {
    const ghp = SECRET_CORPUS.find((s) => s.kind === 'github classic token')!.secret;
    const input = {
      pod: 'api-7d9f8b6c4d-x2x9z',
      restarts: 7,
      ok: false,
      env: { DB_PASSWORD: 'hunter22', PORT: '8080', SESSION_TOKEN: 12345678 },
      logs: [`pushing with ${ghp}`, 'all quiet'],
      credentials: { user: 'svc', nested: ['a1', 'b2'] },
      secretName: 'api-tls',
    };
    const copy = structuredClone(input);
    const out = redactDeep(input);
    expect(input).toEqual(copy);
    expect(out).toEqual({
      pod: 'api-7d9f8b6c4d-x2x9z',
      restarts: 7,
      ok: false,
      env: { DB_PASSWORD: '[REDACTED:credential]', PORT: '8080', SESSION_TOKEN: '[REDACTED:credential]' },
      logs: ['pushing with [REDACTED:github-token]', 'all quiet'],
      credentials: {
        user: '[REDACTED:credential]',
        nested: ['[REDACTED:credential]', '[REDACTED:credential]'],
      },
      secretName: 'api-tls',
    });
  });

  it('keeps cycles as cycles and leaves Dates as they are', () => {
    const at = new Date('2025-06-01T00:00:00Z');
    const node: { name: string; at: Date; self?: unknown } = { name: 'n', at };
    node.self = node;
    const out = redactDeep(node);
    expect(out.self).toBe(out);
    expect(out.at).toBe(at);
  });

  it('redacts a plain string like redactText', () => {
    const sample = SECRET_CORPUS[0]!;
    expect(redactDeep(sample.line)).toBe(redactText(sample.line));
  });
});

describe('audit redaction goes through the same rules', () => {
  it('hides a token inside an audit detail string as well as credential-named keys', () => {
    const jwt = SECRET_CORPUS.find((s) => s.kind === 'jwt')!;
    const out = redactSecrets({ command: jwt.line, token: 'x', note: 'fine' }) as Record<string, string>;
    expect(out.command).not.toContain(jwt.secret);
    expect(out.command).toContain('[REDACTED:jwt]');
    expect(out.token).toBe('[redacted]');
    expect(out.note).toBe('fine');
  });
});
