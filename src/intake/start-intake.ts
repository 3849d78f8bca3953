import type { Logger } from 'pino';
import { startDeciding } from '../execution/start.js';
import type { Role } from '../runtime/roles.js';
import type { Runtime } from '../runtime/runtime.js';
import { ingestAlerts } from './alert-ingest.js';
import { ALERTMANAGER_PATH, alertmanagerRoute, type HttpRoute, intakeEnabled } from './alertmanager-route.js';

/** The bearer token Alertmanager must send, from the environment (a secret: never in reef.yaml). */
export function alertmanagerTokenFrom(env: NodeJS.ProcessEnv): string | undefined {
  return env.REEF_ALERTMANAGER_TOKEN?.trim() || undefined;
}

/**
 * The Alertmanager receiver of a process that serves HTTP (`reef start`, `reef bot`): its route, and a
 * role that closes what its decisions opened. Decisions about new alert incidents are taken here, with
 * the same hook as a worker's sweeps (runbook match, diagnosis, auto-run or approval request).
 */
export function startAlertmanagerIntake(
  rt: Runtime,
  log: Logger,
  env: NodeJS.ProcessEnv,
): { route: HttpRoute; role: Role } {
  const token = alertmanagerTokenFrom(env);
  const settings = rt.config.intake.alertmanager;
  const deciding = startDeciding(rt, log);
  if (intakeEnabled(settings, token)) {
    if (token === undefined) {
      log.warn(
        `UNAUTHENTICATED: POST ${ALERTMANAGER_PATH} accepts alerts from anyone who can reach this port (intake.alertmanager.enabled: true, no REEF_ALERTMANAGER_TOKEN). Alerts open incidents and can start auto runbooks: set REEF_ALERTMANAGER_TOKEN and Alertmanager's http_config.authorization.`,
      );
    } else {
      if (token.length < 16)
        log.warn(
          'REEF_ALERTMANAGER_TOKEN is shorter than 16 characters: use a long random one (openssl rand -hex 32)',
        );
      log.info({ path: ALERTMANAGER_PATH }, 'alertmanager intake on (bearer token required)');
    }
  }
  const route = alertmanagerRoute({
    token,
    settings,
    log,
    ingest: (payload) =>
      ingestAlerts(payload, {
        config: rt.config,
        clock: rt.clock,
        tracker: rt.tracker,
        bus: rt.bus,
        afterIngest: deciding.afterIngest,
        log,
      }),
  });
  return { route, role: { name: 'intake', stop: () => deciding.close() } };
}
