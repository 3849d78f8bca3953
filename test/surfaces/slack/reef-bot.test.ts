import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOT_TOKEN, type SlackApiServer, startSlackApiServer } from '../../fixtures/slack-api-server.js';
import { formBody, postSigned, SIGNING_SECRET, slashCommand } from '../../fixtures/slack-payloads.js';
import { RunningCli } from '../../helpers/cli.js';
import { eventually } from '../../helpers/eventually.js';
import { connect, dropPrefix, redisUrl, uniquePrefix } from '../../helpers/redis.js';

/** The real `reef bot` process: SLACK_* in the environment turn the console surface into Slack. */
describe('reef bot with SLACK_BOT_TOKEN', () => {
  let slack: SlackApiServer;
  let dir: string;
  const prefix = uniquePrefix('reefbot');
  beforeAll(async () => {
    slack = await startSlackApiServer();
    dir = mkdtempSync(path.join(tmpdir(), 'reef-bot-'));
  });
  afterAll(async () => {
    await slack.close();
    const redis = connect();
    await dropPrefix(redis, prefix);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves /slack/events beside /healthz on REEF_HTTP_PORT and answers /reef over HTTP', async () => {
    const config = path.join(dir, 'reef.yaml');
    writeFileSync(config, `redis: { prefix: ${prefix} }\nslack: { channels: { alerts: C0ALERTS } }\n`);
    const reef = new RunningCli(['bot', '--config', config], {
      cwd: dir,
      env: {
        REDIS_URL: redisUrl(),
        REEF_HTTP_PORT: '0',
        REEF_DATA_DIR: path.join(dir, 'data'),
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: slack.apiUrl,
        SLACK_APP_TOKEN: '',
      },
    });
    try {
      const [, port] = await reef.waitFor(
        /Slack surface \(HTTP, \/slack\/events\)[\s\S]*Health: http:\/\/127\.0\.0\.1:(\d+)\/healthz/,
      );
      expect(slack.callsTo('auth.test')[0]?.answer).toBe('ok');
      const responseUrl = slack.responseUrl();
      const res = await postSigned(
        `http://127.0.0.1:${port}/slack/events`,
        formBody(slashCommand({ text: 'runbooks', user: 'UANA', responseUrl })),
      );
      expect(res.status).toBe(200);
      const answer = await eventually('the answer', async () => slack.responses(responseUrl)[0]);
      expect(String(answer.text)).toMatch(/`pod-restart`/);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBeLessThan(600);
    } finally {
      expect(await reef.stop()).toBe(0);
    }
  });
});
