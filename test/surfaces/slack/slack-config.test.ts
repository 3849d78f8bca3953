import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../../src/config/load.js';
import { isReefError, ReefError } from '../../../src/errors.js';
import { openRuntime } from '../../../src/runtime/runtime.js';
import { readSlackEnv } from '../../../src/surfaces/slack/slack-env.js';
import { channelFor } from '../../../src/surfaces/slack/slack-surface.js';
import { startSlack } from '../../../src/surfaces/slack/start-slack.js';
import {
  APP_TOKEN,
  BOT_TOKEN,
  type SlackApiServer,
  startSlackApiServer,
} from '../../fixtures/slack-api-server.js';
import { redisUrl, uniquePrefix } from '../../helpers/redis.js';

function problems(text: string): string[] {
  try {
    parseConfig(text, 'reef.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ReefError);
    return [...(error as ReefError).details];
  }
  throw new Error('expected the config to be rejected');
}

describe('Slack settings', () => {
  it('the environment picks the mode: no bot token → console, app token → Socket Mode, else HTTP', () => {
    expect(readSlackEnv({})).toEqual({ mode: 'off' });
    expect(readSlackEnv({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_APP_TOKEN: APP_TOKEN })).toMatchObject({
      mode: 'socket',
      apiUrl: 'https://slack.com/api/',
    });
    expect(
      readSlackEnv({
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_SIGNING_SECRET: 's',
        SLACK_API_URL: 'http://127.0.0.1:9/api',
      }),
    ).toMatchObject({
      mode: 'http',
      signingSecret: 's',
      apiUrl: 'http://127.0.0.1:9/api/',
    });
  });

  it('bad Slack variables are all listed at once, each saying what to set', () => {
    let error: unknown;
    try {
      readSlackEnv({ SLACK_BOT_TOKEN: 'xoxp-user-token', SLACK_API_URL: 'slack.com' });
    } catch (e) {
      error = e;
    }
    expect(isReefError(error) && error.code).toBe('reef_config_invalid');
    const details = (error as ReefError).details.join('\n');
    expect(details).toMatch(/SLACK_BOT_TOKEN must be the bot token \(xoxb-…/);
    expect(details).toMatch(/set SLACK_APP_TOKEN \(Socket Mode.*\) or SLACK_SIGNING_SECRET \(HTTP mode/);
    expect(details).toMatch(/SLACK_API_URL "slack.com" is not an http\(s\) URL/);
    expect(() => readSlackEnv({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_APP_TOKEN: 'xoxb-wrong' })).toThrow(
      /incomplete/,
    );
  });

  it('reef.yaml: ids, not names, and routes that say what they match', () => {
    const found = problems(`
slack:
  channels: { alerts: "reef alerts", routes: [ { channel: C1ABC } ] }
  approvers: { users: [ana], groups: ["@oncall"] }
`);
    expect(found.join('\n')).toMatch(/slack\.channels\.alerts: must be a channel id/);
    expect(found.join('\n')).toMatch(/slack\.channels\.routes\[0\]: a route needs `severity` or `check`/);
    expect(found.join('\n')).toMatch(
      /slack\.approvers\.users\[0\]: must be a Slack user id such as U0123ABCD/,
    );
    expect(found.join('\n')).toMatch(/slack\.approvers\.groups\[0\]: must be a Slack user-group id/);
  });

  it('routes by check and severity, else the alerts channel', () => {
    const { slack } = parseConfig(`
slack:
  channels:
    alerts: C0ALERTS
    routes: [ { check: pods, severity: critical, channel: C0PODS }, { check: certificate, channel: "#certs" } ]
`);
    expect(channelFor({ check: 'pods', severity: 'critical' }, slack)).toBe('C0PODS');
    expect(channelFor({ check: 'pods', severity: 'warning' }, slack)).toBe('C0ALERTS');
    expect(channelFor({ check: 'certificate', severity: 'warning' }, slack)).toBe('#certs');
  });
});

describe('slack/manifest.yaml', () => {
  it('declares /reef, interactivity, Socket Mode and every scope the calls Reef makes need', () => {
    const manifest = parse(
      readFileSync(new URL('../../../slack/manifest.yaml', import.meta.url), 'utf8'),
    ) as {
      features: { slash_commands: { command: string }[] };
      oauth_config: { scopes: { bot: string[] } };
      settings: { interactivity: { is_enabled: boolean }; socket_mode_enabled: boolean };
    };
    expect(manifest.features.slash_commands.map((c) => c.command)).toEqual(['/reef']);
    expect(manifest.settings).toMatchObject({
      interactivity: { is_enabled: true },
      socket_mode_enabled: true,
    });
    // chat.postMessage/update, /reef, conversations.join, usergroups.users.list, files.*UploadExternal.
    expect(manifest.oauth_config.scopes.bot.sort()).toEqual([
      'channels:join',
      'chat:write',
      'commands',
      'files:write',
      'usergroups:read',
    ]);
  });
});

describe('starting the Slack surface', () => {
  let slack: SlackApiServer;
  let dir: string;
  beforeAll(async () => {
    slack = await startSlackApiServer();
    dir = mkdtempSync(path.join(tmpdir(), 'reef-slack-start-'));
  });
  afterAll(async () => {
    await slack.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (yaml: string, env: NodeJS.ProcessEnv) => {
    const file = path.join(dir, `${uniquePrefix('cfg')}.yaml`);
    writeFileSync(file, `redis: { prefix: ${uniquePrefix('slackstart')} }\n${yaml}`);
    const fullEnv = {
      REDIS_URL: redisUrl(),
      REEF_DATA_DIR: path.join(dir, 'data'),
      SLACK_API_URL: slack.apiUrl,
      ...env,
    };
    const rt = await openRuntime({ configFlag: file, env: fullEnv, cwd: dir });
    try {
      const bot = await startSlack(rt, pino({ level: 'silent' }), fullEnv);
      await bot?.role.stop();
      return bot;
    } finally {
      await rt.close();
    }
  };

  it('without SLACK_BOT_TOKEN the console surface stays', async () => {
    expect(await start('', {})).toBeUndefined();
  });

  it('a bot token without slack.channels.alerts is an error naming the key to set', async () => {
    const error = await start('', { SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: 's' }).catch(
      (e: unknown) => e,
    );
    expect(isReefError(error) && error.describe()).toMatch(
      /slack\.channels\.alerts is not[\s\S]*hint: Add to .*\nslack:\n {2}channels: \{ alerts: C0123ABCD \}/,
    );
  });

  it('a token Slack refuses fails at start-up (auth.test), saying which token to copy again', async () => {
    const error = await start('slack: { channels: { alerts: C0ALERTS } }', {
      SLACK_BOT_TOKEN: 'xoxb-revoked',
      SLACK_SIGNING_SECRET: 's',
    }).catch((e: unknown) => e);
    expect(isReefError(error) && error.code).toBe('reef_slack_api');
    expect(isReefError(error) && error.describe()).toMatch(
      /invalid_auth[\s\S]*hint: Slack refused the bot token: copy SLACK_BOT_TOKEN/,
    );
  });
});
