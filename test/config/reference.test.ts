import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configJsonSchema } from '../../src/config/load.js';
import { configReference } from '../../src/config/reference.js';

describe('configuration reference', () => {
  it('docs/configuration.md is what the schema generates (run `npm run -s docs` after changing it)', () => {
    const shipped = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    expect(shipped).toBe(configReference(configJsonSchema() as Parameters<typeof configReference>[0]));
  });

  it('lists nested keys, list items, maps and alternative forms with type, default and description', () => {
    const text = configReference({
      type: 'object',
      properties: {
        timezone: { type: 'string', default: 'UTC', description: 'Zone.' },
        checks: {
          type: 'object',
          properties: {
            http: {
              type: 'array',
              default: [],
              items: {
                type: 'object',
                required: ['url'],
                properties: {
                  url: { type: 'string', format: 'uri' },
                  method: { type: 'string', enum: ['GET', 'HEAD'], default: 'GET' },
                  retries: { type: 'integer', minimum: 0, maximum: 10, description: 'Extra | attempts.' },
                },
              },
            },
          },
        },
        hosts: {
          type: 'object',
          additionalProperties: {
            anyOf: [
              { type: 'object', required: ['local'], properties: { local: { const: true } } },
              { type: 'object', required: ['host'], properties: { host: { type: 'string' } } },
            ],
          },
        },
      },
    });
    expect(text).toContain('| `timezone` | string | `"UTC"` | Zone. |');
    expect(text).toContain('| `checks.http[].url` (required) | URL |  |  |');
    expect(text).toContain('| `checks.http[].method` | one of `"GET"`, `"HEAD"` | `"GET"` |  |');
    expect(text).toContain('| `checks.http[].retries` | integer |  | Extra \\| attempts. 0–10. |');
    expect(text).toContain('| `hosts.<name>.local` (required) | `true` |  | (form 1) |');
    expect(text).toContain('| `hosts.<name>.host` (required) | string |  | (form 2) |');
  });
});
