// Processor pods whose runtime is OOMKilled or killed mid-run, on a real cluster: processor pods
// from the pinned digest, reached through the API server's port-forward.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { engine, FsArtifactStore, Registry, type ErrorEnvelope } from '../../src/index.js';
import { KubernetesAdapter } from '../../src/adapters/kubernetes/pod-adapter.js';
import { tempDir } from '../helpers/cli.js';
import { envelopeOf } from '../helpers/envelope.js';
import { kubeEnv, needKubernetes, processorSuite } from '../helpers/kubernetes.js';

/** The kubelet's Docker container for a pod's runtime (a k8s_* container: the cluster's own). */
function runtimeContainerId(namespace: string, pod: string): string {
  const res = spawnSync('docker', ['ps', '-q', '--filter', `label=io.kubernetes.pod.namespace=${namespace}`, '--filter', `label=io.kubernetes.pod.name=${pod}`, '--filter', 'label=io.kubernetes.container.name=runtime'], { encoding: 'utf8' });
  return res.stdout.trim().split('\n')[0] ?? '';
}

describe('processor pods killed or OOMKilled on a real Kubernetes cluster', { concurrency: false }, () => {
  const suite = processorSuite('procctl-proc-b');
  const { kube } = suite;

  it('reports a pod OOMKilled or killed mid-run as ERR_CONTAINER_EXIT with the exit code and OOM flag', async (t) => {
    if (!(await needKubernetes(t))) return;
    const cwd = tempDir();
    assert.equal((await kube(['start', '--ref', 'testing/echo@1'])).code, 0);
    const oom = await kube(['run', '--ref', 'testing/echo@1', '--json', '--inputs-json', '{"schema":"v1","params":{"allocate_mb":400,"sleep_ms":500}}'], {}, cwd);
    const error = (envelopeOf(oom) as ErrorEnvelope).error;
    assert.equal(error.code, 'ERR_CONTAINER_EXIT', oom.stdout);
    assert.equal(error.details?.['oom_killed'], true);
    assert.equal(error.details?.['exit_code'], 137);
    const status = await kube(['status']);
    assert.match(status.stdout, /procctl-testing-echo-v1-mock .*OOMKilled/);

    // A fresh pod, then its runtime killed from outside while a run is in flight.
    assert.equal((await kube(['start', '--ref', 'testing/echo@1'])).code, 0);
    const adapter = new KubernetesAdapter({ store: new FsArtifactStore(tempDir()), namespace: suite.namespace, env: kubeEnv({ ...process.env }) });
    let killed = false;
    const envelope = await adapter.invoke({
      processorRef: 'testing/echo@1',
      inputsJson: { schema: 'v1', mode: 'mock', params: { sleep_ms: 900 } },
      writePrefix: 'x/{execution_id}/',
      executionId: 'kube-killed-1',
      registrySnapshot: new Registry(suite.registry).snapshot('testing/echo@1'),
      secretsPresent: [],
      adapterOpts: {
        onEvent: (event) => {
          if (event.kind === 'log' && !killed) {
            killed = true;
            void engine().getContainer(runtimeContainerId(suite.namespace, 'procctl-testing-echo-v1-mock')).kill({ signal: 'SIGKILL' });
          }
        },
      },
    });
    adapter.close();
    assert.ok(killed, 'the run started');
    const killedError = (envelope as ErrorEnvelope).error;
    assert.equal(killedError.code, 'ERR_CONTAINER_EXIT', JSON.stringify(killedError));
    assert.equal(killedError.details?.['exit_code'], 137);
    assert.equal(killedError.details?.['oom_killed'], false);
    assert.equal((await kube(['stop', '--all', '--grace', '0'])).code, 0);
  });
});
