import { type SlackApiServer, startSlackApiServer } from '../../test/fixtures/slack-api-server.js';
import { signatureHeaders } from '../../test/fixtures/slack-payloads.js';
import type { FiredRequest, SlackCommand, SlackReply } from './slack-stand-in.js';

// Child entry of `startSlackStandIn`: the Slack Web API stand-in, and the sender of signed requests to
// Reef's /slack/events. Loopback only; it lives exactly as long as the IPC channel.

const send = (message: SlackReply) => process.send?.(message);
let slack: SlackApiServer | undefined;

process.once('message', () => {
  startSlackApiServer().then(
    (server) => {
      slack = server;
      send({ kind: 'ready', url: server.origin });
      process.on('message', (command: SlackCommand) => {
        run(command).then(send, (error: unknown) =>
          send({
            kind: 'done',
            id: command.id,
            error: error instanceof Error ? error.message : String(error),
          }),
        );
      });
    },
    (error: unknown) => {
      send({ kind: 'failed', error: error instanceof Error ? error.message : String(error) });
      process.exit(1);
    },
  );
});
process.once('disconnect', () => process.exit(0));
process.once('SIGTERM', () => process.exit(0));

async function run(command: SlackCommand): Promise<SlackReply> {
  const server = slack!;
  switch (command.op) {
    case 'messages':
      return { kind: 'done', id: command.id, messages: server.messages };
    case 'fire': {
      const one = async (r: (typeof command.requests)[number]): Promise<FiredRequest> => {
        const headers = signatureHeaders(r.body);
        const started = performance.now();
        const res = await fetch(command.url, { method: 'POST', headers, body: r.body });
        const ms = performance.now() - started;
        await res.arrayBuffer();
        return { kind: r.kind, status: res.status, ms };
      };
      const fired: FiredRequest[] = [];
      if (command.concurrent) fired.push(...(await Promise.all(command.requests.map(one))));
      else for (const r of command.requests) fired.push(await one(r));
      return { kind: 'done', id: command.id, fired };
    }
    case 'answered': {
      const started = performance.now();
      while (!command.urls.every((u) => server.responses(u).length > 0)) {
        if (performance.now() - started > command.timeoutMs)
          throw new Error(
            `${command.urls.filter((u) => server.responses(u).length === 0).length} requests got no answer`,
          );
        await new Promise((r) => setTimeout(r, 10));
      }
      return { kind: 'done', id: command.id, answeredMs: performance.now() - started };
    }
  }
}
