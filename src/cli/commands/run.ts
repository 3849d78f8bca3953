import { errorMessage, ReefError } from '../../errors.js';
import { startAlertmanagerIntake } from '../../intake/start-intake.js';
import { startMetrics } from '../../metrics/start-metrics.js';
import { firstRoute, healthReport, startHttpServer } from '../../runtime/http-server.js';
import { createLogger } from '../../runtime/logger.js';
import { startWatches } from '../../runtime/pod-watch.js';
import { type Role, startScheduler, startSurface, startWorker } from '../../runtime/roles.js';
import { openRuntime } from '../../runtime/runtime.js';
import { ConsoleSurface } from '../../surfaces/console.js';
import { type CliIo, print } from '../io.js';

export type RoleName = 'scheduler' | 'worker' | 'bot';

/**
 * Runs Reef's long-lived roles in this process until SIGTERM or SIGINT: `reef start` runs all three
 * (plus the HTTP health endpoint), `reef scheduler|worker|bot` one each, for scaling out.
 */
export async function runCommand(
  roles: readonly RoleName[],
  options: { config?: string },
  io: CliIo,
): Promise<number> {
  const all = roles.length === 3;
  // Listen for the stop signal from the very start: a SIGTERM during start-up (a supervisor stopping a
  // slow boot) must still let the roles that started finish their work and close, not kill the process.
  const stopRequested = new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      print(io.err, `${signal}: finishing running jobs, then stopping…`);
      process.once(signal, () => process.exit(130));
      resolve();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
  const rt = await openRuntime({
    configFlag: options.config,
    env: io.env,
    cwd: io.cwd,
    mayStartPrivateRedis: all,
    log: (message) => print(io.err, message),
  });
  const log = createLogger(rt.env.logLevel);
  const running: Role[] = [];
  let http: Awaited<ReturnType<typeof startHttpServer>> | undefined;
  const stopAll = async () => {
    // Workers first, so in-flight sweeps finish and their events are still delivered.
    for (const role of [...running].sort((a, b) => order(a.name) - order(b.name))) {
      await role
        .stop()
        .catch((error: unknown) => log.error({ err: errorMessage(error), role: role.name }, 'stop failed'));
    }
    await http?.close();
    await rt.close();
  };
  try {
    // SLACK_BOT_TOKEN set: the Slack surface (loaded only then: Bolt is heavy); else the console.
    const slack = roles.includes('bot')
      ? await (await import('../../surfaces/slack/start-slack.js')).startSlack(rt, log, io.env)
      : undefined;
    const surface = slack?.surface ?? new ConsoleSurface(io.out, rt.config.timezone, io.color);
    if (roles.includes('worker')) running.push(startWorker(rt, log));
    if (roles.includes('bot')) running.push(startSurface(rt, surface, log));
    if (slack) running.push(slack.role);
    const host = io.env.REEF_HTTP_HOST || '127.0.0.1';
    // `reef start` and `reef bot` always serve HTTP; a lone worker or scheduler only when REEF_HTTP_PORT
    // is set (as the container image does), for its /healthz and its own /metrics.
    const front = all || roles.includes('bot');
    if (front || io.env.REEF_HTTP_PORT) {
      // Up before the first sweep: the embedded default config checks this very endpoint.
      const metrics = startMetrics(rt, log);
      running.push(metrics.role);
      // Alertmanager's webhook goes to the process that talks to humans, beside /slack/events.
      const intake = front ? startAlertmanagerIntake(rt, log, io.env) : undefined;
      if (intake) running.push(intake.role);
      const names = () => running.map((r) => r.name).filter((n) => n !== 'metrics' && n !== 'intake');
      const routes = [slack?.handleHttp, intake?.route, metrics.route].filter((r) => r !== undefined);
      try {
        http = await startHttpServer(
          rt.env.httpPort,
          host,
          () => healthReport(rt, names(), metrics.queues),
          firstRoute(...routes),
        );
      } catch (error) {
        throw new ReefError(
          'reef_usage',
          `Cannot listen on ${host}:${rt.env.httpPort} (${errorMessage(error)})`,
          {
            hint: 'Another program uses that port: set REEF_HTTP_PORT to a free one (0 picks any).',
          },
        );
      }
    }
    if (roles.includes('scheduler')) {
      running.push(await startScheduler(rt, log, { runNow: all && rt.config.sweep.runOnStart }));
      running.push(startWatches(rt, log));
    }
    // The banner is for the terminal that started Reef, whichever surface talks to humans.
    print(
      io.out,
      [
        `Reef is running (${roles.join(', ')}) — ${slack ? `Slack surface (${slack.mode === 'socket' ? 'Socket Mode' : 'HTTP, /slack/events'})` : 'console surface'}, ${rt.redis.label}, prefix "${rt.prefix}".`,
        `Config: ${rt.loaded.path}${rt.loaded.embedded ? ' (embedded default; put your own in ./reef.yaml)' : ''}`,
        `Sweeps: "${rt.config.schedule.checks}" in ${rt.config.timezone}${all && rt.config.sweep.runOnStart ? ', first sweep now' : ''}.` +
          (http ? ` Health: http://${host}:${http.port}/healthz` : ''),
        'Press Ctrl-C to stop. From another shell: reef status · reef incidents · reef approve <id> · reef dismiss <id>',
      ].join('\n'),
    );
  } catch (error) {
    await stopAll();
    throw error;
  }

  await stopRequested;
  await stopAll();
  print(io.err, 'Reef stopped.');
  return 0;
}

function order(name: string): number {
  return name === 'worker' ? 0 : name === 'scheduler' || name === 'watches' ? 1 : 2;
}
