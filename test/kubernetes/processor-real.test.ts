// Real-mode processor pods with secrets from a synced Secret, and the secret canary, on a real cluster: processor pods
// from the pinned digest, reached through the API server's port-forward.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { allText, tempDir } from '../helpers/cli.js';
import { needKubernetes, processorSuite } from '../helpers/kubernetes.js';

describe('processor pods in real mode on a real Kubernetes cluster', { concurrency: false }, () => {
  const suite = processorSuite('procctl-proc-r');
  const { kube } = suite;

  it('runs real mode from a synced Secret, and the secret canary appears in no spec, log, status, envelope or state file', async (t) => {
    const c = await needKubernetes(t);
    if (!c) return;
    const canary = `sk-canary-${process.pid}-${Date.now()}`;
    const bridge = spawnSync('docker', ['network', 'inspect', 'bridge', '--format', '{{(index .IPAM.Config 0).Gateway}}'], { encoding: 'utf8' }).stdout.trim() || '172.17.0.1';
    const base = suite.provider?.url.replace(/\/\/[^:]+:/, `//${bridge}:`) ?? '';
    const outputs: string[] = [];
    const refused = await kube(['start', '--ref', 'llm/litellm@1', '--mode', 'real']);
    assert.equal(refused.code, 5);
    assert.match(refused.stderr, /ERR_MISSING_SECRET: .*OPENAI_API_KEY.*procctl kube sync-secrets --ref llm\/litellm@1/);
    const sync = await kube(['sync-secrets', '--ref', 'llm/litellm@1'], { OPENAI_API_KEY: canary });
    outputs.push(sync.stdout, sync.stderr);
    assert.equal(sync.code, 0, sync.stderr);
    assert.match(sync.stdout, /holds: OPENAI_API_KEY/);
    const start = await kube(['start', '--ref', 'llm/litellm@1', '--mode', 'real'], { OPENAI_BASE_URL: base });
    outputs.push(start.stdout, start.stderr);
    assert.equal(start.code, 0, start.stderr);
    const cwd = tempDir();
    const run = await kube(['run', '--ref', 'llm/litellm@1', '--mode', 'real', '--json', '--execution-id', 'kube-real-1', '--inputs-json', '{"schema":"v1","params":{"model":"openai/gpt-c","messages":[{"content":"Hi"}]}}'], {}, cwd);
    outputs.push(run.stdout, run.stderr);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.equal(suite.provider?.requests.at(-1)?.authorization, `Bearer ${canary}`, 'the pod got the synced secret');
    const status = await kube(['status', '--json']);
    const logs = await kube(['logs', '--ref', 'llm/litellm@1', '--mode', 'real']);
    outputs.push(status.stdout, logs.stdout, logs.stderr);
    const pod = await c.core.readNamespacedPod({ namespace: suite.namespace, name: 'procctl-llm-litellm-v1-real' });
    outputs.push(JSON.stringify(pod), allText(cwd));
    for (const text of outputs) assert.doesNotMatch(text, new RegExp(canary));
    assert.ok(pod.spec?.containers[0]?.env?.some((e) => e.name === 'OPENAI_API_KEY' && e.valueFrom?.secretKeyRef?.name === 'procctl-llm-litellm-v1-secrets'));
    assert.equal((await kube(['stop', '--ref', 'llm/litellm@1', '--grace', '1'])).code, 0);
  });
});
