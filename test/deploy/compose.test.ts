import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

/**
 * Docker cannot run on these machines, so the home-lab deployment files are checked for what the issue
 * asks of them: Redis with AOF and noeviction, volumes for data, memory and runbooks, a multi-stage image
 * that runs as a non-root user with a health check, and the git that Reef's memory needs.
 */
describe('docker-compose.yml and Dockerfile', () => {
  const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');

  it('compose runs Redis with AOF and noeviction, and Reef with data, memory and runbooks volumes', () => {
    const compose = parse(read('docker-compose.yml')) as {
      services: Record<
        string,
        { command?: string[]; volumes?: string[]; environment?: Record<string, string> }
      >;
      volumes: Record<string, unknown>;
    };
    const redis = compose.services.redis!;
    expect(redis.command?.join(' ')).toMatch(/--appendonly yes/);
    expect(redis.command?.join(' ')).toMatch(/--maxmemory-policy noeviction/);
    const reef = compose.services.reef!;
    expect(reef.environment?.REDIS_URL).toBe('redis://redis:6379');
    const targets = (reef.volumes ?? []).map((v) => v.split(':')[1]);
    expect(targets).toEqual(expect.arrayContaining(['/data', '/data/memory', '/app/runbooks']));
    expect(Object.keys(compose.volumes)).toEqual(
      expect.arrayContaining(['redis-data', 'reef-data', 'reef-memory']),
    );
  });

  it('the image is multi-stage, has git, runs as a non-root user and checks /healthz', () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/apt-get install [^\n]*\bgit\b/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK [\s\S]*\/healthz/m);
    expect(dockerfile).toMatch(/chown -R node:node \/data/);
  });
});
