import { type KubeApiServer, startKubeApiServer } from '../../test/fixtures/kube-api-server.js';
import { makeReplicaSet, setContainer } from '../../test/fixtures/kube-objects.js';
import { type KubeCommand, type KubeReply, type KubeStandInSpec, standInPods } from './kube-stand-in.js';

// Child entry of `startKubeStandIn`: builds the fake cluster of a KubeStandInSpec, answers with its URL,
// then runs the parent's commands (flip a pod, count requests). Loopback only; it lives exactly as long
// as the IPC channel, like the other stand-ins.

const send = (message: KubeReply) => process.send?.(message);
let server: KubeApiServer | undefined;

process.once('message', (spec: KubeStandInSpec) => {
  start(spec).then(
    (url) => {
      send({ kind: 'ready', url });
      process.on('message', (command: KubeCommand) => send(run(command)));
    },
    (error: unknown) => {
      send({ kind: 'failed', error: error instanceof Error ? error.message : String(error) });
      process.exit(1);
    },
  );
});
process.once('disconnect', () => process.exit(0));
process.once('SIGTERM', () => process.exit(0));

async function start(spec: KubeStandInSpec): Promise<string> {
  server = await startKubeApiServer();
  for (const pod of standInPods(spec)) {
    if (pod.index % spec.podsPerDeployment === 0) {
      server.store.put(
        makeReplicaSet({ name: pod.replicaSet, namespace: pod.namespace, deployment: pod.deployment }),
      );
    }
    server.addPod({
      name: pod.name,
      namespace: pod.namespace,
      owner: { kind: 'ReplicaSet', name: pod.replicaSet },
      containers: [
        pod.crashing
          ? {
              name: 'app',
              state: 'CrashLoopBackOff',
              restartCount: 12,
              lastTermination: { reason: 'Error', exitCode: 1 },
            }
          : { name: 'app' },
      ],
    });
  }
  return server.url;
}

function run(command: KubeCommand): KubeReply {
  const s = server!;
  switch (command.op) {
    case 'flip':
      s.updatePod(command.namespace, command.name, (p) =>
        setContainer(p, {
          name: 'app',
          state: 'CrashLoopBackOff',
          restartCount: 1,
          lastTermination: { reason: 'Error', exitCode: 1 },
        }),
      );
      return { kind: 'done', id: command.id };
    case 'recover':
      s.updatePod(command.namespace, command.name, (p) =>
        setContainer(p, { name: 'app', state: 'running', restartCount: 1 }),
      );
      return { kind: 'done', id: command.id };
    case 'count':
      return {
        kind: 'done',
        id: command.id,
        count: s.count({ verb: command.verb, resource: command.resource }),
      };
  }
}
