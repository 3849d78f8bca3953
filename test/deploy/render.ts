import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';

/**
 * Renders a kustomization with the real `kubectl kustomize` and parses every document, so the manifest
 * rules run on exactly what `kubectl apply -k` would send. `KUBECTL` picks another binary (for example
 * Debian's kubectl 1.20, whose kustomize v2.0.3 the manifests also support).
 */

const run = promisify(execFile);

export const KUBECTL = process.env.KUBECTL || 'kubectl';
export const DEPLOY_DIR = fileURLToPath(new URL('../../deploy/kubernetes', import.meta.url));

/** One rendered Kubernetes object, as plain data. */
export type KubeDoc = Record<string, unknown> & {
  kind: string;
  metadata: { name: string; namespace?: string };
};

/** `kubectl version --client` output, or a loud error saying how to install kubectl. */
export async function kubectlVersion(): Promise<string> {
  try {
    const { stdout } = await run(KUBECTL, ['version', '--client'], { timeout: 20_000 });
    return stdout.trim();
  } catch (error) {
    throw new Error(
      `kubectl is needed to render deploy/kubernetes with \`kubectl kustomize\`, and \`${KUBECTL} version --client\` failed (${(error as Error).message.split('\n')[0]}). Install it: \`apt-get install kubernetes-client\` (Debian; .ci/run does this) or any kubectl ≥ 1.14, or set KUBECTL to its path.`,
    );
  }
}

export async function renderKustomization(dir: string): Promise<KubeDoc[]> {
  let stdout: string;
  try {
    ({ stdout } = await run(KUBECTL, ['kustomize', dir], { timeout: 30_000, maxBuffer: 16 * 1024 * 1024 }));
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`\`${KUBECTL} kustomize ${dir}\` failed: ${stderr.trim() || (error as Error).message}`);
  }
  const parsed = parseAllDocuments(stdout);
  const documents = Array.isArray(parsed) ? parsed : [];
  const docs: KubeDoc[] = [];
  for (const doc of documents) {
    if (doc.errors.length > 0) throw new Error(`kustomize printed invalid YAML: ${doc.errors[0]?.message}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (!isKubeDoc(value)) throw new Error(`kustomize printed a document without kind/metadata.name`);
    docs.push(value);
  }
  return docs;
}

function isKubeDoc(value: unknown): value is KubeDoc {
  if (typeof value !== 'object' || value === null) return false;
  const { kind, metadata } = value as { kind?: unknown; metadata?: unknown };
  return (
    typeof kind === 'string' &&
    typeof metadata === 'object' &&
    metadata !== null &&
    typeof (metadata as { name?: unknown }).name === 'string'
  );
}
