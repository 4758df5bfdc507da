// `procctl kube …` and `procctl run --adapter kubernetes` against a real cluster: processor pods
// from the pinned digest, reached through the API server's port-forward.
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Registry, type ErrorEnvelope, type SuccessEnvelope } from '../../src/index.js';
import { HELLO_INPUTS, runCli, tempDir } from '../helpers/cli.js';
import { envelopeOf } from '../helpers/envelope.js';
import { needKubernetes, processorSuite } from '../helpers/kubernetes.js';

describe('processors on a real Kubernetes cluster', { concurrency: false }, () => {
  const suite = processorSuite('procctl-proc');
  const { env, kube } = suite;

  it('says how to start a processor that has no pod', async (t) => {
    if (!(await needKubernetes(t))) return;
    const run = await kube(['run', '--ref', 'testing/echo@1', '--json', '--inputs-json', '{"schema":"v1","params":{}}']);
    assert.equal(run.code, 7);
    const error = (envelopeOf(run) as ErrorEnvelope).error;
    assert.equal(error.code, 'ERR_CONTAINER_NOT_RUNNING');
    assert.match(error.message, /no started mock pod for testing\/echo@1 in namespace procctl-proc-.*; start one with: procctl kube start --ref testing\/echo@1$/);
  });

  it('starts the pinned image, runs it with envelope bytes equal to in-process, and stops it', async (t) => {
    const c = await needKubernetes(t);
    if (!c) return;
    const start = await kube(['start', '--ref', 'llm/litellm@1', '--json']);
    assert.equal(start.code, 0, start.stderr);
    const shown = JSON.parse(start.stdout) as { name: string; digest: string; node: string; reused: boolean };
    const pinned = new Registry(suite.registry).snapshot('llm/litellm@1').entry.image.digests['linux/amd64'];
    assert.equal(shown.digest, pinned, '/healthz digest checked against the pin');
    assert.equal(shown.node, 'procctl-node');
    const pod = await c.core.readNamespacedPod({ namespace: suite.namespace, name: shown.name });
    assert.equal(pod.spec?.containers[0]?.image, `127.0.0.1:5000/procctl/llm-litellm@${pinned}`, 'by digest');
    assert.deepEqual(pod.spec?.containers[0]?.resources?.limits, { cpu: '1', memory: '256Mi' });
    assert.deepEqual(pod.spec?.containers[0]?.resources?.requests, { cpu: '1', memory: '256Mi' });
    assert.ok(!(pod.spec?.containers[0]?.env ?? []).some((e) => e.name === 'OPENAI_API_KEY'), 'a mock pod gets no secrets');
    assert.ok((pod.spec?.containers[0]?.env ?? []).some((e) => e.name === 'PROCCTL_RUNTIME_HANDLER_THREADS' && e.value === '1'), 'handler threads capped at the CPU limit, not the node CPUs');
    assert.ok((pod.spec?.containers[0]?.env ?? []).every((e) => e.name !== 'PROCCTL_RUNTIME_TOKEN' || e.valueFrom?.secretKeyRef), 'the token only by Secret reference');

    const args = ['--ref', 'llm/litellm@1', '--inputs-json', HELLO_INPUTS, '--json', '--execution-id', 'kube-parity-1'];
    const onPod = await kube(['run', ...args]);
    assert.equal(onPod.code, 0, onPod.stderr + onPod.stdout);
    const inProcess = await runCli(['run', ...args], { env: env(), cwd: tempDir() });
    assert.equal(inProcess.code, 0, inProcess.stderr);
    assert.equal(onPod.stdout, inProcess.stdout, 'byte-identical envelopes');
    const viaRun = await runCli(['run', '--adapter', 'kubernetes', '--namespace', suite.namespace, ...args], { env: env(), cwd: tempDir() });
    assert.equal(viaRun.stdout, inProcess.stdout, 'procctl run --adapter kubernetes too');
    assert.match((envelopeOf(onPod) as SuccessEnvelope).meta.image_digest ?? '', /^sha256:/);

    const again = await kube(['start', '--ref', 'llm/litellm@1', '--json']);
    assert.equal((JSON.parse(again.stdout) as { reused: boolean }).reused, true, 'a second start shares the running pod');
    const status = await kube(['status']);
    assert.match(status.stdout, /procctl-llm-litellm-v1-mock +llm\/litellm@1 +mock +Running +true +procctl-node/);
    const logs = await kube(['logs', '--ref', 'llm/litellm@1']);
    assert.match(logs.stdout, /"execution_id":"kube-parity-1"/, 'the pod logs each run');

    const stop = await kube(['stop', '--ref', 'llm/litellm@1', '--grace', '1']);
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stderr, /stopped pod .*procctl-llm-litellm-v1-mock/);
    await assert.rejects(c.core.readNamespacedPod({ namespace: suite.namespace, name: shown.name }), 'the pod is gone');
    const after = await kube(['run', ...args]);
    assert.equal((envelopeOf(after) as ErrorEnvelope).error.code, 'ERR_CONTAINER_NOT_RUNNING');
  });

  it('reports an image the cluster cannot pull as ERR_IMAGE_PULL with Kubernetes\' message', async (t) => {
    if (!(await needKubernetes(t))) return;
    const dir = tempDir('procctl-kube-reg-');
    cpSync(join(suite.registry, 'testing-echo-v1'), join(dir, 'testing-echo-v1'), { recursive: true });
    const file = join(dir, 'testing-echo-v1', 'registry.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/sha256:[0-9a-f]{64}/g, `sha256:${'0'.repeat(64)}`));
    const start = await kube(['start', '--ref', 'testing/echo@1'], { PROCCTL_REGISTRY: dir });
    assert.equal(start.code, 7, start.stderr);
    assert.match(start.stderr, /ERR_IMAGE_PULL: pod procctl-testing-echo-v1-mock cannot pull 127\.0\.0\.1:5000\/procctl\/testing-echo@sha256:0+: (ErrImagePull|ImagePullBackOff): /);
  });
});
