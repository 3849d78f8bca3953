import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readEnv } from '../../src/env.js';
import type { StepExecutor } from '../../src/executors/executor.js';
import { EXECUTORS } from '../../src/executors/registry.js';
import { checkPolicy, type PolicyInput } from '../../src/guardrails/policy.js';
import { loadCatalog } from '../../src/runbooks/catalog.js';
import { render } from '../../src/runbooks/render.js';
import type { Runbook } from '../../src/runbooks/runbook.js';

const catalog = loadCatalog(fileURLToPath(new URL('../../runbooks', import.meta.url)));
const podRestart = catalog.get('pod-restart')!;
const diskCleanup = catalog.get('disk-cleanup')!;

const crashing = {
  cluster: 'prod',
  namespace: 'apps',
  pod: 'web-7d9f',
  ownerKind: 'Deployment',
  ownerName: 'web',
  stateful: false,
};

const check = (input: Partial<PolicyInput> & { runbook: Runbook }) =>
  checkPolicy({ facts: crashing, dryRun: false, ...input });

describe('checkPolicy', () => {
  it('allows the built-in pod restart on a stateless pod, with its steps as rendered', () => {
    const rendered = render(podRestart, {
      id: '1',
      check: 'pods',
      target: 'prod/apps/web-7d9f',
      condition: 'CrashLoopBackOff',
      facts: crashing,
    });
    if (rendered.status !== 'ok') throw new Error('render refused');
    expect(check({ runbook: podRestart, rendered: rendered.steps })).toEqual({ allowed: true });
    expect(check({ runbook: diskCleanup, facts: {} })).toEqual({ allowed: true });
  });

  it('refuses a stateful pod unless the runbook says stateful: true, saying why', () => {
    const stateful = { ...crashing, ownerKind: 'StatefulSet', ownerName: 'db', stateful: true };
    expect(check({ runbook: podRestart, facts: stateful })).toEqual({
      allowed: false,
      code: 'stateful_target',
      reason:
        'runbook pod-restart does not say stateful: true, and the target is stateful (facts.stateful is true; owned by StatefulSet db): its data or identity outlives the pod',
    });
    // A persistent volume alone is enough, even when a fact source forgot `stateful`.
    const withClaim = { ...crashing, stateful: false, persistentVolumeClaims: ['data-web'] };
    expect(check({ runbook: podRestart, facts: withClaim })).toMatchObject({
      allowed: false,
      code: 'stateful_target',
      reason: expect.stringContaining('mounts PersistentVolumeClaim data-web'),
    });
    expect(check({ runbook: { ...podRestart, stateful: true }, facts: stateful })).toEqual({ allowed: true });
  });

  it('refuses a step type outside the action list', () => {
    const runbook = {
      ...podRestart,
      steps: [{ type: 'shell.run', params: { script: 'rm -rf /' }, line: 12 }],
    };
    expect(check({ runbook })).toEqual({
      allowed: false,
      code: 'unknown_step',
      reason: 'runbook pod-restart: step type "shell.run" is not in the action list of this Reef',
    });
  });

  it('refuses a namespace delete or a Deployment edit even from a registered executor', () => {
    // A registry that grew a dangerous executor: the policy is the second, independent line.
    const stub = (type: string): StepExecutor<unknown> => ({
      ...EXECUTORS.wait!,
      type,
    });
    const executors = {
      ...EXECUTORS,
      'kubernetes.deleteNamespace': stub('kubernetes.deleteNamespace'),
      'kubernetes.delete': stub('kubernetes.delete'),
      'kubernetes.patch': stub('kubernetes.patch'),
    };
    const withStep = (type: string, params: unknown) => ({
      ...podRestart,
      steps: [...podRestart.steps, { type, params, line: 20 }],
    });
    expect(
      check({ runbook: withStep('kubernetes.deleteNamespace', { namespace: 'apps' }), executors }),
    ).toEqual({
      allowed: false,
      code: 'forbidden_kind',
      reason:
        'runbook pod-restart: step kubernetes.deleteNamespace would act on a Namespace; Reef never deletes namespaces or edits Deployments or StatefulSets',
    });
    expect(
      check({ runbook: withStep('kubernetes.delete', { kind: 'Namespace', name: 'apps' }), executors }),
    ).toMatchObject({
      allowed: false,
      code: 'forbidden_kind',
      reason: expect.stringContaining('a Namespace'),
    });
    expect(
      check({
        runbook: withStep('kubernetes.patch', { target: { kind: 'deployments.apps', name: 'web' } }),
        executors,
      }),
    ).toMatchObject({
      allowed: false,
      code: 'forbidden_kind',
      reason: expect.stringContaining('a Deployment'),
    });
    // Known only once rendered: the runbook's `kind` is a template.
    const templated = withStep('kubernetes.delete', { kind: '{{facts.kind}}', name: 'x' });
    expect(check({ runbook: templated, executors })).toEqual({ allowed: true });
    expect(
      check({
        runbook: templated,
        executors,
        rendered: [{ type: 'kubernetes.delete', params: { kind: 'StatefulSet', name: 'x' } }],
      }),
    ).toMatchObject({
      allowed: false,
      code: 'forbidden_kind',
      reason: expect.stringContaining('a StatefulSet'),
    });
  });

  it('refuses declared kubectl commands that delete namespaces, edit Deployments or apply manifests', () => {
    const withCommand = (argv: string[]) => ({
      ...diskCleanup,
      commands: { ...diskCleanup.commands, k: argv },
    });
    const refused = (argv: string[]) => checkPolicy({ runbook: withCommand(argv), facts: {}, dryRun: false });
    expect(refused(['kubectl', 'delete', 'namespace', 'apps'])).toEqual({
      allowed: false,
      code: 'forbidden_command',
      reason:
        'runbook disk-cleanup: command k would delete a Namespace (kubectl delete namespace apps); Reef never deletes namespaces or edits Deployments or StatefulSets',
    });
    expect(refused(['/usr/bin/kubectl', '-n', 'apps', 'rollout', 'restart', 'deploy/web'])).toMatchObject({
      code: 'forbidden_command',
      reason: expect.stringContaining('a Deployment'),
    });
    expect(refused(['kubectl', 'scale', '--replicas=0', 'sts/db'])).toMatchObject({
      code: 'forbidden_command',
    });
    expect(refused(['kubectl', 'apply', '-f', 'fix.yaml'])).toMatchObject({
      code: 'forbidden_command',
      reason: expect.stringContaining('manifests whose kinds cannot be checked'),
    });
    // Reading is fine, and so is a pod delete in a namespace named by -n.
    expect(refused(['kubectl', 'get', 'deployments', '-n', 'apps'])).toEqual({ allowed: true });
    expect(refused(['kubectl', 'delete', 'pod', 'web-1', '-n', 'deployments'])).toEqual({ allowed: true });
  });

  it('dry run: refused with its own code, after the real refusals so a dry run shows them', () => {
    expect(check({ runbook: podRestart, dryRun: true })).toEqual({
      allowed: false,
      code: 'dry_run',
      reason: 'REEF_DRY_RUN is set: steps are only described, nothing runs',
    });
    expect(
      check({ runbook: podRestart, dryRun: true, facts: { ...crashing, stateful: true } }),
    ).toMatchObject({
      code: 'stateful_target',
    });
  });

  it('REEF_DRY_RUN=1|true|yes turns dry run on in readEnv', () => {
    for (const [value, on] of [
      ['1', true],
      ['true', true],
      ['YES', true],
      [' yes ', true],
      ['0', false],
      ['no', false],
      ['', false],
      [undefined, false],
    ] as const) {
      expect(readEnv({ REEF_DRY_RUN: value }, '/tmp').dryRun, String(value)).toBe(on);
    }
  });
});
