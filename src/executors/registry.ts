import { ansiblePlaybookExecutor } from './ansible-playbook.js';
import { certbotRenewExecutor } from './certbot-renew.js';
import type { StepExecutor } from './executor.js';
import { filesCleanupExecutor } from './files-cleanup.js';
import { filesRotateLogsExecutor } from './files-rotate-logs.js';
import { httpRequestExecutor } from './http-request.js';
import { kubernetesApplyTlsSecretExecutor } from './kubernetes-apply-tls-secret.js';
import { kubernetesDeletePodExecutor } from './kubernetes-delete-pod.js';
import { sshExecExecutor } from './ssh-exec.js';
import { terraformApplyExecutor } from './terraform-apply.js';
import { waitExecutor } from './wait.js';

/**
 * Every step a runbook may use: the closed action list. A step type not listed here does not load, so
 * nothing outside this list can ever run. Add an executor file and list it here.
 */
export const EXECUTORS: Readonly<Record<string, StepExecutor<unknown>>> = Object.fromEntries(
  [
    erase(kubernetesDeletePodExecutor),
    erase(kubernetesApplyTlsSecretExecutor),
    erase(sshExecExecutor),
    erase(filesRotateLogsExecutor),
    erase(filesCleanupExecutor),
    erase(httpRequestExecutor),
    erase(certbotRenewExecutor),
    erase(ansiblePlaybookExecutor),
    erase(terraformApplyExecutor),
    erase(waitExecutor),
  ].map((e) => [e.type, e]),
);

/** The registry forgets each executor's parameter type; the loader validates params with its schema first. */
function erase<P>(executor: StepExecutor<P>): StepExecutor<unknown> {
  return executor as StepExecutor<unknown>;
}
