import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  configJsonSchema,
  EMBEDDED_CONFIG_PATH,
  formatPath,
  loadConfig,
  parseConfig,
} from '../../src/config/load.js';
import { ReefError } from '../../src/errors.js';

function problems(text: string): string[] {
  try {
    parseConfig(text, 'reef.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ReefError);
    expect((error as ReefError).code).toBe('reef_config_invalid');
    return [...(error as ReefError).details];
  }
  throw new Error('expected the config to be rejected');
}

describe('config', () => {
  it('accepts the documented shape as written and fills defaults', () => {
    const config = parseConfig(`
timezone: Europe/Berlin
schedule: { checks: "*/15 * * * *", brainstorm: "0 4 * * *" }
checks:
  http:
    - { name: api, url: "http://127.0.0.1:8080/healthz", expectStatus: 200, timeoutMs: 3000, retries: 2 }
  certificates:
    - { name: api-tls, url: "https://127.0.0.1:8443", warnDays: 14 }
`);
    expect(config.timezone).toBe('Europe/Berlin');
    expect(config.schedule).toEqual({ checks: '*/15 * * * *', brainstorm: '0 4 * * *' });
    expect(config.checks.http[0]).toMatchObject({
      name: 'api',
      expectStatus: 200,
      timeoutMs: 3000,
      retries: 2,
      method: 'GET',
    });
    expect(config.checks.certificates[0]).toMatchObject({ name: 'api-tls', warnDays: 14, criticalDays: 3 });
    expect(config.sweep.concurrency).toBe(64);
    expect(config.redis.prefix).toBe('reef');
  });

  it('an empty file is a valid config with no checks', () => {
    const config = parseConfig('');
    expect(config.checks).toEqual({ http: [], certificates: [], pods: [], disk: [], errorLogs: [] });
    expect(config.timezone).toBe('UTC');
  });

  it('reports every problem at once, each with its path and line', () => {
    const details = problems(`timezone: Mars/Olympus
schedule: { checks: "every 15 minutes" }
checks:
  http:
    - { name: api, url: "http://127.0.0.1:8080/healthz" }
    - { name: web, url: "http://127.0.0.1:8081/" }
    - { name: broken, url: "not a url", timeoutMs: -5 }
  ping:
    - { name: x }
`);
    expect(details).toEqual([
      expect.stringMatching(/^line 1: timezone: unknown time zone/),
      expect.stringMatching(/^line 2: schedule\.checks: invalid cron pattern/),
      expect.stringMatching(/^line 7: checks\.http\[2\]\.url: Invalid URL/),
      'line 7: checks.http[2].timeoutMs: must be a positive number of milliseconds',
      'line 8: checks.ping: unknown key (known here: http, certificates, pods, disk, errorLogs)',
    ]);
  });

  it('names a missing required field, a wrong type and a typo in a target', () => {
    const details = problems(`checks:
  http:
    - { url: "http://127.0.0.1/" }
    - { name: a, url: "http://127.0.0.1/", retries: "two" }
    - { name: b, url: "http://127.0.0.1/", timeout: 5 }
`);
    expect(details).toContain('line 3: checks.http[0].name: required (string)');
    expect(details.some((d) => d.startsWith('line 4: checks.http[1].retries:'))).toBe(true);
    expect(details.find((d) => d.includes('checks.http[2].timeout'))).toMatch(
      /unknown key \(known here: .*timeoutMs/,
    );
  });

  it('rejects duplicate target names, which would merge incidents', () => {
    const details = problems(`checks:
  http:
    - { name: api, url: "http://127.0.0.1:1/" }
    - { name: api, url: "http://127.0.0.1:2/" }
`);
    expect(details).toEqual([
      expect.stringMatching(/checks\.http\[1\]\.name: duplicate name "api" \(also at checks\.http\[0\]\)/),
    ]);
  });

  it('rejects a certificate URL that is not https and criticalDays above warnDays', () => {
    const details = problems(`checks:
  certificates:
    - { name: c, url: "http://127.0.0.1:8443", warnDays: 5, criticalDays: 7 }
`);
    expect(
      details.some((d) => d.includes('checks.certificates[0].url: Invalid URL (must be an https://')),
    ).toBe(true);
    expect(
      details.some((d) =>
        d.includes('checks.certificates[0].criticalDays: criticalDays must be below warnDays'),
      ),
    ).toBe(true);
  });

  it('reports invalid YAML with its line', () => {
    try {
      parseConfig('checks:\n  http:\n    - name: [\n', 'x.yaml');
      expect.unreachable();
    } catch (error) {
      const e = error as ReefError;
      expect(e.code).toBe('reef_config_invalid');
      expect(e.message).toBe('x.yaml is not valid YAML');
      expect(e.details[0]).toMatch(/^line \d+, column \d+: /);
    }
  });

  it('rejects a top level that is not a mapping', () => {
    expect(() => parseConfig('- a\n- b\n')).toThrow(/must hold a mapping/);
  });

  it('formats paths the way operators read them', () => {
    expect(formatPath(['checks', 'http', 2, 'url'])).toBe('checks.http[2].url');
    expect(formatPath([])).toBe('');
  });

  describe('file resolution', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'reef-config-'));

    it('a named file that does not exist is an error, never a fallback', () => {
      expect(() => loadConfig('missing.yaml', {}, dir)).toThrow(ReefError);
      try {
        loadConfig(undefined, { REEF_CONFIG: '/nonexistent/reef.yaml' }, dir);
      } catch (error) {
        expect((error as ReefError).code).toBe('reef_config_missing');
        expect((error as ReefError).hint).toMatch(/REEF_CONFIG/);
      }
    });

    it('uses --config, then REEF_CONFIG, then ./reef.yaml, then the embedded example', () => {
      expect(loadConfig(undefined, {}, dir)).toMatchObject({ embedded: true, path: EMBEDDED_CONFIG_PATH });
      writeFileSync(path.join(dir, 'reef.yaml'), 'timezone: Asia/Tokyo\n');
      writeFileSync(path.join(dir, 'other.yaml'), 'timezone: America/New_York\n');
      writeFileSync(path.join(dir, 'flag.yaml'), 'timezone: Europe/Paris\n');
      expect(loadConfig(undefined, {}, dir).config.timezone).toBe('Asia/Tokyo');
      expect(loadConfig(undefined, { REEF_CONFIG: 'other.yaml' }, dir).config.timezone).toBe(
        'America/New_York',
      );
      expect(loadConfig('flag.yaml', { REEF_CONFIG: 'other.yaml' }, dir).config.timezone).toBe(
        'Europe/Paris',
      );
    });

    it('the embedded example is valid and checks something out of the box', () => {
      const { config } = loadConfig(undefined, {}, mkdtempSync(path.join(tmpdir(), 'reef-empty-')));
      expect(config.checks.http.length).toBeGreaterThan(0);
    });
  });

  it('the shipped JSON Schema matches the zod schema (run `npm run schema` after changing it)', () => {
    const shipped = JSON.parse(
      readFileSync(new URL('../../schema/reef.schema.json', import.meta.url), 'utf8'),
    );
    expect(shipped).toEqual(configJsonSchema());
    expect(shipped.properties.checks.properties.http.items.required).toEqual(['name', 'url']);
    expect(shipped.properties.checks.additionalProperties).toBe(false);
  });
});

describe('environment variables in the config', () => {
  it('substitutes $NAME and $NAME:-default in braces; $$ is a literal dollar', () => {
    const config = parseConfig(
      `checks:\n  http:\n    - name: api\n      url: "http://\${API_HOST}:\${API_PORT:-8080}/healthz"\n      headers: { authorization: "Bearer \${API_TOKEN}", x-price: "$$5" }\n`,
      'reef.yaml',
      { API_HOST: '127.0.0.1', API_TOKEN: 't0k3n' },
    );
    expect(config.checks.http[0]!.url).toBe('http://127.0.0.1:8080/healthz');
    expect(config.checks.http[0]!.headers).toEqual({ authorization: 'Bearer t0k3n', 'x-price': '$5' });
  });

  it('an unset variable without a default is an error naming where it is used', () => {
    try {
      parseConfig(`checks:\n  http:\n    - { name: api, url: "http://\${NOPE_HOST}/" }\n`, 'reef.yaml', {});
      expect.unreachable();
    } catch (error) {
      expect((error as ReefError).details).toEqual([`checks.http[0].url: \${NOPE_HOST} is not set`]);
    }
  });
});

describe('hosts, clusters and infrastructure checks', () => {
  it('accepts the documented shape as written', () => {
    const config = parseConfig(`
hosts:
  bastion: { host: 127.0.0.1, port: 2222, username: reef, privateKeyPath: ~/.ssh/reef_ed25519 }
  web-1:   { host: 10.0.0.5, username: reef, privateKeyPath: ~/.ssh/reef_ed25519, via: bastion }
  self:    { local: true }
clusters:
  homelab: { kubeconfig: ~/.kube/config, context: homelab, namespaces: [default, apps] }
checks:
  pods: [ { cluster: homelab } ]
  disk: [ { host: web-1, paths: ["/", "/var"], warnPercent: 85, actPercent: 90 } ]
  errorLogs:
    - { name: api-log, host: web-1, path: /var/log/app/api.log, pattern: "ERROR|FATAL", spikeFactor: 3, window: 1h }
    - { name: web-pods, cluster: homelab, namespace: apps, selector: app=web, pattern: "level=error", spikeFactor: 3, window: 1h }
`);
    expect(config.hosts['web-1']).toMatchObject({
      host: '10.0.0.5',
      port: 22,
      via: 'bastion',
      verifyHostKey: true,
    });
    expect(config.hosts.self).toEqual({ local: true, become: false });
    expect(config.clusters.homelab).toMatchObject({
      context: 'homelab',
      namespaces: ['default', 'apps'],
      inCluster: false,
    });
    expect(config.checks.pods[0]).toMatchObject({ cluster: 'homelab', pendingAfter: '10m', watch: true });
    expect(config.checks.disk[0]).toMatchObject({
      host: 'web-1',
      paths: ['/', '/var'],
      inodeWarnPercent: 90,
    });
    expect(config.checks.errorLogs[1]).toMatchObject({
      selector: 'app=web',
      baselineWindows: 6,
      minCount: 10,
    });
  });

  it('names unknown hosts and clusters, bastion loops, and incomplete log sources', () => {
    const details = problems(`
hosts:
  a: { host: 10.0.0.1, username: r, via: b }
  b: { host: 10.0.0.2, username: r, via: a }
  c: { host: 10.0.0.3, username: r, via: nowhere, hostKeyFingerprint: "md5:aa" }
checks:
  pods: [ { cluster: prod } ]
  disk: [ { host: web-9 }, { host: a, warnPercent: 95, actPercent: 90 } ]
  errorLogs:
    - { name: x, host: a, pattern: "E" }
    - { name: y, host: a, path: /l, cluster: prod, namespace: n, selector: s, pattern: "E" }
    - { name: z, cluster: prod, namespace: apps, pattern: "(" }
`);
    const text = details.join('\n');
    expect(text).toMatch(/hosts\.a\.via: bastion chain loops: a → b → a/);
    expect(text).toMatch(/hosts\.c\.via: unknown host "nowhere" \(known: a, b, c\)/);
    expect(text).toMatch(/hosts\.c\.hostKeyFingerprint: must look like SHA256:/);
    expect(text).toMatch(
      /checks\.pods\[0\]\.cluster: unknown cluster "prod" \(no clusters are configured under clusters:\)/,
    );
    expect(text).toMatch(/checks\.disk\[0\]\.host: unknown host "web-9"/);
    expect(text).toMatch(/checks\.disk\[1\]\.warnPercent: warnPercent must be below actPercent/);
    expect(text).toMatch(/checks\.errorLogs\[0\]: a log file needs both host and path/);
    expect(text).toMatch(
      /checks\.errorLogs\[1\]: give either host \+ path .* or cluster \+ namespace \+ selector/,
    );
    expect(text).toMatch(/checks\.errorLogs\[2\]\.pattern: invalid regular expression/);
  });

  it('two disk checks on one host need names to tell their incidents apart', () => {
    const details = problems(`
hosts: { web: { local: true } }
checks:
  disk: [ { host: web, paths: ["/"] }, { host: web, paths: ["/var"] } ]
`);
    expect(details).toEqual([
      expect.stringMatching(/checks\.disk\[1\]\.host: duplicate name "web" .*set `name`/),
    ]);
  });
});

describe('type errors', () => {
  it('a value of the wrong type is reported as such, not as missing', () => {
    const details = problems(
      'sweep: { concurrency: "many" }\nchecks: { http: [ { name: a, url: "http://127.0.0.1/", retries: [1] } ] }\n',
    );
    expect(details).toContain('line 1: sweep.concurrency: expected number, got string "many"');
    expect(details).toContain('line 2: checks.http[0].retries: expected number, got a list');
  });
});
