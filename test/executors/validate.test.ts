import { describe, expect, it } from 'vitest';
import { formatBytes, parseSize } from '../../src/executors/bytes.js';
import { EXECUTORS } from '../../src/executors/registry.js';
import {
  absoluteGlob,
  absolutePath,
  displayArgv,
  escapeGlob,
  isInside,
  kubeName,
  kubeNamespace,
  splitGlob,
} from '../../src/executors/validate.js';

const message = (result: { success: boolean; error?: { issues: { message: string }[] } }) =>
  result.success ? undefined : result.error!.issues[0]!.message;

describe('step parameter validation helpers', () => {
  it('Kubernetes names: DNS-1123 subdomains; namespaces: DNS-1123 labels', () => {
    for (const ok of ['web', 'web-7d9f-x2x4q', 'a.b-c', '0abc', 'a'.repeat(253)])
      expect(kubeName.safeParse(ok).success, ok).toBe(true);
    for (const bad of [
      '',
      'Web',
      'web_1',
      '-web',
      'web-',
      'a..b',
      'web;rm',
      '$(id)',
      '../x',
      'a'.repeat(254),
      'we b',
    ]) {
      expect(message(kubeName.safeParse(bad)), bad).toMatch(/is not a valid Kubernetes name/);
    }
    expect(kubeNamespace.safeParse('kube-system').success).toBe(true);
    expect(message(kubeNamespace.safeParse('a.b'))).toBe(
      '"a.b" is not a valid Kubernetes namespace (lowercase letters, digits and "-", starting and ending with a letter or digit, at most 63 characters)',
    );
  });

  it('absolute paths: normalised, no `..`, no control or shell characters; globs only where allowed', () => {
    expect(absolutePath.parse('/var//log/./app/')).toBe('/var/log/app');
    expect(absolutePath.parse('/srv/data dir/x.log')).toBe('/srv/data dir/x.log');
    const refused = (value: string, schema = absolutePath) => message(schema.safeParse(value));
    expect(refused('/var/log/../../etc')).toBe(
      '"/var/log/../../etc" contains a ".." segment (paths must stay inside the roots)',
    );
    expect(refused('..')).toBe('".." is not an absolute path');
    expect(refused('/var/log/a\nb')).toMatch(/control character/);
    expect(refused('/var/log/a\0b')).toMatch(/control character/);
    for (const meta of [
      '$(id)',
      '`id`',
      'a;b',
      'a|b',
      'a&b',
      'a>b',
      "a'b",
      'a"b',
      'a\\b',
      '~root',
      '#x',
      '!x',
    ]) {
      expect(refused(`/var/${meta}`), meta).toMatch(/shell metacharacter/);
    }
    expect(refused('/var/log/*.log')).toMatch(/glob character/);
    expect(absoluteGlob.parse('/var/log/app-?/[ab]*.log')).toBe('/var/log/app-?/[ab]*.log');
  });

  it('roots, glob splitting and escaping for find', () => {
    expect(isInside('/var/log/app', '/var/log')).toBe(true);
    expect(isInside('/var/log', '/var/log')).toBe(true);
    expect(isInside('/var/logs', '/var/log')).toBe(false);
    expect(isInside('/anything', '/')).toBe(true);
    expect(splitGlob('/var/log/*/app-*.log')).toEqual({ base: '/var/log', rest: ['*', 'app-*.log'] });
    expect(splitGlob('/var/log/syslog')).toEqual({ base: '/var/log', rest: ['syslog'] });
    expect(escapeGlob('/data/[x]*?\\')).toBe('/data/\\[x]\\*\\?\\\\');
  });

  it('displays argv as an operator would type it', () => {
    expect(displayArgv(['journalctl', '--vacuum-size=500M', 'a b', "it's", '', '$(id)'])).toBe(
      `journalctl --vacuum-size=500M 'a b' 'it'\\''s' '' '$(id)'`,
    );
  });

  it('sizes', () => {
    expect([
      parseSize('512'),
      parseSize('1k'),
      parseSize('10M'),
      parseSize('1.5GiB'),
      parseSize('2 mb'),
    ]).toEqual([512, 1024, 10 * 1024 ** 2, 1.5 * 1024 ** 3, 2 * 1024 ** 2]);
    expect(parseSize('ten')).toBeUndefined();
    expect(formatBytes(4_404_019)).toBe('4.2 MiB');
  });

  it('the registry lists these executors, all mutating', () => {
    for (const type of [
      'kubernetes.deletePod',
      'kubernetes.applyTlsSecret',
      'ssh.exec',
      'files.rotateLogs',
      'files.cleanup',
      'http.request',
    ]) {
      expect(EXECUTORS[type]?.mutates, type).toBe(true);
    }
  });
});
