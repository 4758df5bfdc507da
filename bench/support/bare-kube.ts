/**
 * The baselines of bench/kubernetes.ts, as a process of their own (as procctl's side is), using
 * the bare client with nothing of procctl's:
 *   job NAMESPACE IMAGE                 create a Job running the executor on `true` (payload in its
 *                                       args), wait for Complete, read the pod's log
 *   deployment NAMESPACE IMAGE DIGEST   create a Deployment of the processor image, wait for Ready,
 *                                       GET /healthz through a port-forward, delete it
 */
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { createServer } from 'node:net';
import * as k8s from '@kubernetes/client-node';

const [what, namespace = 'default', image = '', digest = ''] = process.argv.slice(2);
const config = new k8s.KubeConfig();
config.loadFromDefault();
const core = config.makeApiClient(k8s.CoreV1Api);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const name = `bare-${randomBytes(4).toString('hex')}`;

if (what === 'job') {
  const batch = config.makeApiClient(k8s.BatchV1Api);
  const payload = JSON.stringify({ contract_version: 'v1', provider: 'workspace', command: ['true'] });
  await batch.createNamespacedJob({
    namespace,
    body: { metadata: { name }, spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'executor', image, imagePullPolicy: 'IfNotPresent', args: ['--payload-json', payload] }] } } } },
  });
  for (;;) {
    const job = await batch.readNamespacedJob({ namespace, name });
    if (job.status?.succeeded || job.status?.failed) break;
    await pause(200);
  }
  const pods = await core.listNamespacedPod({ namespace, labelSelector: `job-name=${name}` });
  const log = await core.readNamespacedPodLog({ namespace, name: pods.items[0]?.metadata?.name ?? '', container: 'executor' });
  if (!String(log).includes('LLMCTL_EXECUTOR_RESULT_JSON=')) throw new Error('no result line in the log');
  void batch.deleteNamespacedJob({ namespace, name, propagationPolicy: 'Background' });
} else if (what === 'deployment') {
  const apps = config.makeApiClient(k8s.AppsV1Api);
  const labels = { app: name };
  await apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { containers: [{ name: 'runtime', image, imagePullPolicy: 'IfNotPresent', env: [{ name: 'PROCCTL_RUNTIME_TOKEN', value: randomBytes(16).toString('hex') }, { name: 'PROCCTL_IMAGE_DIGEST', value: digest }], readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 } }] },
        },
      },
    },
  });
  let pod = '';
  for (;;) {
    const pods = await core.listNamespacedPod({ namespace, labelSelector: `app=${name}` });
    const ready = pods.items.find((p) => p.status?.containerStatuses?.[0]?.ready);
    if (ready) {
      pod = ready.metadata?.name ?? '';
      break;
    }
    await pause(100);
  }
  const forward = new k8s.PortForward(config);
  const server = createServer((socket) => void forward.portForward(namespace, pod, [8080], socket, null, socket));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const req = request(`http://127.0.0.1:${port}/healthz`, { agent: false }, (res) => (res.resume(), resolve(res.statusCode === 200)));
      req.on('error', () => resolve(false));
      req.end();
    });
    if (ok) break;
    await pause(50);
  }
  // The time is taken here, before the clean-up.
  process.stdout.write(`ready ${Date.now()}\n`);
  server.close();
  await apps.deleteNamespacedDeployment({ namespace, name, propagationPolicy: 'Foreground' });
  process.exit(0);
} else {
  throw new Error(`usage: bare-kube.js job|deployment NAMESPACE IMAGE [DIGEST]`);
}
