/**
 * Kubernetes, from one run against the cluster KUBECONFIG names (the local one: bash .ci/kubernetes.sh):
 * - `exec_ratio`: `procctl exec --provider kubernetes` running `true` (the whole CLI call) over the
 *   bare client doing the same in a process of its own — create a Job, wait for completion, read the
 *   log (goal <= 1.2);
 * - `start_ratio`: `procctl kube start` of llm/litellm@1 (mock) to healthy over a bare Deployment of
 *   the same image reaching Ready plus a port-forwarded /healthz.
 * Also the medians behind them, in milliseconds. Needs Docker, the local registry and the cluster.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectCluster } from '../src/kubernetes/client.js';
import { reportRatio, timeProcess } from './stats.js';
import { pinnedLitellm } from './support/pinned-litellm.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const root = fileURLToPath(new URL('../../', import.meta.url));
const procctl = join(root, 'dist/src/cli/procctl.js');
const bare = join(root, 'dist/bench/support/bare-kube.js');
const LOCAL_KUBECONFIG = '/var/lib/procctl-k8s/kubeconfig';
const kubeconfig = process.env['KUBECONFIG'] ?? (existsSync(LOCAL_KUBECONFIG) ? LOCAL_KUBECONFIG : undefined);
if (!kubeconfig) throw new Error('no cluster: set KUBECONFIG or start one with bash .ci/kubernetes.sh');
const image = process.env['LLMCTL_EXECUTOR_IMAGE'] ?? 'llmctl-executor:k8s-bench';
if (!process.env['LLMCTL_EXECUTOR_IMAGE']) {
  const built = spawnSync('bash', [join(root, 'app/llmctl-executor/build-executor.sh')], { env: { ...process.env, IMAGE_NAME: image, INSTALL_CLAUDE: 'false' }, stdio: ['ignore', 'ignore', 'inherit'] });
  if (built.status !== 0) throw new Error('build-executor.sh failed');
}

const cluster = await connectCluster({ env: { ...process.env, KUBECONFIG: kubeconfig } });
const namespace = `procctl-bench-${process.pid}`;
await cluster.core.createNamespace({ body: { metadata: { name: namespace } } });
for (let i = 0; i < 100; i++) {
  if (await cluster.core.readNamespacedServiceAccount({ namespace, name: 'default' }).then(() => true, () => false)) break;
  await new Promise((r) => setTimeout(r, 100));
}
const env = { ...process.env, KUBECONFIG: kubeconfig };

try {
  const payload = JSON.stringify({ contract_version: 'v1', provider: 'kubernetes', command: ['true'] });
  const execs: number[] = [];
  const bareJobs: number[] = [];
  // One warm-up each: the first pod on a node pays for the image's first use.
  for (let i = 0; i <= RUNS; i++) {
    const a = timeProcess(process.execPath, [procctl, 'exec', '--provider', 'kubernetes', '--namespace', namespace, '--image', image, '--payload-json', payload], { env });
    const b = timeProcess(process.execPath, [bare, 'job', namespace, image], { env });
    if (i === 0) continue;
    execs.push(a);
    bareJobs.push(b);
  }
  reportRatio('exec_ratio', ['bare_job_ms', bareJobs], ['procctl_exec_ms', execs]);

  const { registryDir, reference, digest } = await pinnedLitellm();
  const startEnv = { ...env, PROCCTL_REGISTRY: registryDir };
  const starts: number[] = [];
  const bareStarts: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    const a = timeProcess(process.execPath, [procctl, 'kube', 'start', '--ref', 'llm/litellm@1', '--namespace', namespace], { env: startEnv });
    timeProcess(process.execPath, [procctl, 'kube', 'stop', '--ref', 'llm/litellm@1', '--grace', '0', '--namespace', namespace], { env: startEnv });
    const t0 = Date.now();
    const run = spawnSync(process.execPath, [bare, 'deployment', namespace, reference, digest], { env, encoding: 'utf8' });
    const readyAt = Number(/ready (\d+)/.exec(run.stdout)?.[1]);
    if (run.status !== 0 || !readyAt) throw new Error(`bare deployment: ${run.stderr}`);
    if (i === 0) continue;
    starts.push(a);
    bareStarts.push(readyAt - t0);
  }
  reportRatio('start_ratio', ['bare_deployment_to_healthy_ms', bareStarts], ['kube_start_to_healthy_ms', starts]);
} finally {
  await cluster.core.deleteNamespace({ name: namespace, propagationPolicy: 'Background' }).catch(() => undefined);
}
