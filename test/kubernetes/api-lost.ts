// The API server stopped mid-run (registered last by cluster.test.ts: the other suites need it up).
// Only the API server .ci/kubernetes.sh started is stopped, and it is started again afterwards.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Cluster } from '../../src/kubernetes/client.js';
import { payload, REPO, runExec } from '../executor/helpers.js';
import { clusterAnswers, clusterScript, dropNamespace, kubeEnv, LOCAL_KUBECONFIG, needKubernetes, testKubeconfig, testNamespace } from '../helpers/kubernetes.js';

const IMAGE = 'llmctl-executor:k8s-test';

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
    if (testKubeconfig() !== LOCAL_KUBECONFIG) return t.skip('needs the local cluster of .ci/kubernetes.sh: only its own API server is stopped');
    let stopped: ReturnType<typeof clusterScript> | undefined;
    try {
      const run = await runExec(['--provider', 'kubernetes', '--namespace', namespace, '--image', IMAGE, '--payload-json', JSON.stringify(payload({ command: ['sleep', '25'], timeout_seconds: 120 }))], {
        env: { ...kubeEnv(), LLMCTL_EXECUTOR_KILL_GRACE_SECONDS: '1' },
        onLine: (line) => {
          if (!stopped && line === 'LLMCTL_EXECUTOR_STARTED') stopped = clusterScript('stop-apiserver');
        },
      });
      assert.equal(stopped?.status, 0, stopped?.output);
      assert.equal(run.code, 5, run.stderr);
      assert.equal(run.result.status, 'dispatch_uncertain');
      assert.match(run.result.error?.message ?? '', /lost contact with the Kubernetes API server/);
      assert.equal((run.result.error?.details as { retryable?: boolean }).retryable, false);
    } finally {
      const restarted = clusterScript('start');
      assert.equal(restarted.status, 0, restarted.output);
    }
    // The cluster is healthy again for whatever runs next, and the Job was not rerun: one pod.
    const jobs = await c.batch.listNamespacedJob({ namespace });
    assert.equal(jobs.items.length, 1);
    const pods = await c.core.listNamespacedPod({ namespace });
    assert.equal(pods.items.length, 1, 'backoffLimit 0: never a second pod');
  });
});
