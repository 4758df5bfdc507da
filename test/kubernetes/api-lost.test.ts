// The API server lost mid-run. The test starts a second API server of the local cluster (same
// etcd, same credentials) with `.ci/kubernetes.sh apiserver PORT`, dispatches through it, and kills
// it once the command runs: the kubelet and the controllers keep the first one, so the cluster
// stays healthy for every other test, and only the API server this test started is stopped.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectCluster, type Cluster } from '../../src/kubernetes/client.js';
import { payload, REPO, runExec, tempDir } from '../executor/helpers.js';
import { clusterAnswers, dropNamespace, LOCAL_KUBECONFIG, needKubernetes, testKubeconfig, testNamespace } from '../helpers/kubernetes.js';

const IMAGE = 'llmctl-executor:k8s-test';
const PORT = 16443;

describe('exec --provider kubernetes when the API server goes away', () => {
  let cluster: Cluster | undefined;
  let namespace = '';

  before(async () => {
    cluster = await clusterAnswers();
    if (!cluster) return;
    namespace = await testNamespace(cluster, 'procctl-lost');
    spawnSync('bash', [join(REPO, 'app/llmctl-executor/build-executor.sh')], { env: { ...process.env, IMAGE_NAME: IMAGE, INSTALL_CLAUDE: 'false' }, stdio: 'ignore' });
  });

  after(async () => {
    if (cluster && namespace) await dropNamespace(cluster, namespace);
  });

  it('reports dispatch_uncertain when the API server is lost mid-run, and never reruns the Job', async (t) => {
    const c = await needKubernetes(t);
    if (!c) return;
    if (testKubeconfig() !== LOCAL_KUBECONFIG) return t.skip('needs the local cluster of .ci/kubernetes.sh, whose API server it can start a second of');
    const second = spawn('bash', [join(REPO, '.ci/kubernetes.sh'), 'apiserver', String(PORT)], { stdio: 'ignore' });
    try {
      const kubeconfig = join(tempDir(), 'kubeconfig');
      writeFileSync(kubeconfig, readFileSync(LOCAL_KUBECONFIG, 'utf8').replace(/server: https:\/\/127\.0\.0\.1:\d+/, `server: https://127.0.0.1:${PORT}`));
      const viaSecond = await connectCluster({ env: { KUBECONFIG: kubeconfig }, namespace });
      const deadline = Date.now() + 120_000;
      while (!(await viaSecond.core.listNamespacedPod({ namespace }).then(() => true, () => false))) {
        assert.ok(Date.now() < deadline, 'the second API server did not answer within 120 s');
        await new Promise((r) => setTimeout(r, 250));
      }
      const run = await runExec(['--provider', 'kubernetes', '--namespace', namespace, '--image', IMAGE, '--payload-json', JSON.stringify(payload({ command: ['sleep', '20'], timeout_seconds: 120 }))], {
        env: { KUBECONFIG: kubeconfig, LLMCTL_EXECUTOR_KILL_GRACE_SECONDS: '1' },
        onLine: (line) => {
          if (line === 'LLMCTL_EXECUTOR_STARTED') second.kill('SIGKILL');
        },
      });
      assert.equal(second.signalCode ?? 'SIGKILL', 'SIGKILL');
      assert.equal(run.code, 5, run.stderr);
      assert.equal(run.result.status, 'dispatch_uncertain');
      assert.match(run.result.error?.message ?? '', /lost contact with the Kubernetes API server https:\/\/127\.0\.0\.1:16443/);
      assert.equal((run.result.error?.details as { retryable?: boolean }).retryable, false);
    } finally {
      second.kill('SIGKILL');
    }
    // The Job ran on, through the cluster's own API server, exactly once: backoffLimit 0, one pod.
    const jobs = await c.batch.listNamespacedJob({ namespace });
    assert.equal(jobs.items.length, 1);
    const pods = await c.core.listNamespacedPod({ namespace });
    assert.equal(pods.items.length, 1, 'never a second pod');
  });
});
