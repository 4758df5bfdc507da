// `procctl exec --provider kubernetes` against a real cluster (the local one .ci/kubernetes.sh
// starts, with Docker as its runtime): each outcome the issue names, read back from the API server.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { Cluster } from '../../src/kubernetes/client.js';
import { payload, REPO, runExec, tempDir, type BinRun } from '../executor/helpers.js';
import { clusterAnswers, dropNamespace, kubeEnv, needKubernetes, testNamespace } from '../helpers/kubernetes.js';

const IMAGE = 'llmctl-executor:k8s-test';
const json = (value: unknown) => JSON.stringify(value);

async function eventually<T>(what: string, check: () => Promise<T | undefined>, capMs = 60_000): Promise<T> {
  const deadline = Date.now() + capMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('exec --provider kubernetes on a real cluster', { concurrency: false }, () => {
  let cluster: Cluster | undefined;
  let namespace = '';
  let built: { ok: boolean; output: string } | undefined;

  before(async () => {
    cluster = await clusterAnswers();
    if (!cluster) return;
    namespace = await testNamespace(cluster, 'procctl-exec');
    // The kubelet runs images from the local engine: build the executor there (no Claude CLI, to keep it quick).
    const res = spawnSync('bash', [join(REPO, 'app/llmctl-executor/build-executor.sh')], { env: { ...process.env, IMAGE_NAME: IMAGE, INSTALL_CLAUDE: 'false' }, encoding: 'utf8' });
    built = { ok: res.status === 0, output: `${res.stdout}\n${res.stderr}` };
  });

  after(async () => {
    if (cluster && namespace) await dropNamespace(cluster, namespace);
  });

  async function ready(t: TestContext): Promise<Cluster | undefined> {
    const c = await needKubernetes(t);
    if (c) assert.ok(built?.ok, `build-executor.sh failed:\n${built?.output}`);
    return c;
  }

  const kube = (args: string[], env: Record<string, string> = {}, opts: Parameters<typeof runExec>[1] = {}): Promise<BinRun> =>
    runExec(['--provider', 'kubernetes', '--namespace', namespace, '--image', IMAGE, ...args], { ...opts, env: { ...kubeEnv(), LLMCTL_EXECUTOR_KILL_GRACE_SECONDS: '1', ...env } });

  const jobOf = (c: Cluster, name: string) => c.batch.readNamespacedJob({ namespace, name });
  const dispatchOf = (run: BinRun) => run.result.provider_metadata.dispatch as Record<string, unknown>;

  it('runs a payload as a Job: result, markers, provider_metadata, and the payload only in a Secret', async (t) => {
    const c = await ready(t);
    if (!c) return;
    const canary = `canary-${process.pid}-${Date.now()}`;
    const run = await kube(['--payload-json', json(payload({ shell_command: 'echo in-pod; echo to-err >&2', env: { CANARY: canary }, request_id: 'k1', timeout_seconds: 60 }))]);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.equal(run.result.status, 'success');
    assert.equal(run.result.stdout, 'in-pod\n');
    assert.equal(run.result.stderr, 'to-err\n');
    assert.equal(run.result.request_id, 'k1');
    assert.equal(run.lines[0], 'LLMCTL_EXECUTOR_STARTED', 'the start marker is relayed');
    const meta = dispatchOf(run);
    assert.equal(meta.provider, 'kubernetes');
    assert.equal(meta.namespace, namespace);
    assert.match(String(meta.job), /^llmctl-exec-[0-9a-f]{10}$/);
    assert.match(String(meta.pod), new RegExp(`^${String(meta.job)}-`));
    assert.equal(meta.node, 'procctl-node');
    const job = await jobOf(c, String(meta.job));
    assert.equal(job.spec?.backoffLimit, 0);
    assert.equal(job.spec?.activeDeadlineSeconds, 60 + 1 + 30);
    assert.equal(job.spec?.ttlSecondsAfterFinished, 600);
    assert.equal(job.metadata?.labels?.['procctl.executor.request-id'], 'k1');
    assert.doesNotMatch(JSON.stringify(job), new RegExp(canary), 'the payload is not in the Job');
    const pod = await c.core.readNamespacedPod({ namespace, name: String(meta.pod) });
    assert.doesNotMatch(JSON.stringify(pod), new RegExp(canary), 'the payload is not in the pod spec');
    const secret = await c.core.readNamespacedSecret({ namespace, name: String(meta.job) });
    assert.equal(secret.metadata?.ownerReferences?.[0]?.uid, job.metadata?.uid, 'the payload Secret goes with its Job');
  });

  it('reports a failing command as failed with its exit code', async (t) => {
    if (!(await ready(t))) return;
    const run = await kube(['--payload-json', json(payload({ shell_command: 'echo bad >&2; exit 7' }))]);
    assert.equal(run.code, 7);
    assert.equal(run.result.status, 'failed');
    assert.equal(run.result.exit_code, 7);
    assert.equal(run.result.stderr, 'bad\n');
    assert.equal(dispatchOf(run).container_exit_code, 7);
  });

  it('reports a command past timeout_seconds as timeout, as the executor saw it', async (t) => {
    if (!(await ready(t))) return;
    const run = await kube(['--payload-json', json(payload({ command: ['sleep', '60'], timeout_seconds: 2 }))]);
    assert.equal(run.code, 124, run.stderr);
    assert.equal(run.result.status, 'timeout');
    assert.equal(run.result.error?.code, 'timeout');
  });

  it('fails dispatch within seconds for an image the cluster cannot pull, and deletes the Job', async (t) => {
    const c = await ready(t);
    if (!c) return;
    const started = Date.now();
    const run = await runExec(['--provider', 'kubernetes', '--namespace', namespace, '--image', '127.0.0.1:5000/procctl/no-such-executor:missing', '--payload-json', json(payload({ command: ['true'] }))], { env: kubeEnv() });
    assert.equal(run.code, 4, run.stderr);
    assert.equal(run.result.status, 'dispatch_failed');
    assert.match(run.result.error?.message ?? '', /cannot pull the executor image .*(ErrImagePull|ImagePullBackOff)/);
    assert.ok(Date.now() - started < 60_000, 'within seconds, not forever');
    const name = String(dispatchOf(run).job);
    await eventually('the Job to be deleted', async () => {
      try {
        await jobOf(c, name);
        return undefined;
      } catch (err) {
        return (err as { code?: number }).code === 404 ? true : undefined;
      }
    });
  });

  it('reports an OOMKilled container with the reason', async (t) => {
    if (!(await ready(t))) return;
    const hog = 'const a=[];for(;;)a.push(Buffer.alloc(8<<20,1))';
    const run = await kube(['--memory', '160Mi', '--payload-json', json(payload({ command: ['node', '-e', hog], timeout_seconds: 60 }))]);
    const meta = dispatchOf(run);
    assert.equal(meta.oom_killed, true, JSON.stringify(run.result));
    assert.equal(meta.termination_reason, 'OOMKilled');
    assert.notEqual(run.result.status, 'success');
    assert.ok((run.result.warnings ?? []).some((w) => /OOMKilled \(memory limit 160Mi\)/.test(w)) || /OOMKilled/.test(run.result.error?.message ?? ''), JSON.stringify(run.result));
  });

  it('on Ctrl-C deletes the Job with its pods and reports cancelled', async (t) => {
    const c = await ready(t);
    if (!c) return;
    let signalled = false;
    const run = await kube(['--payload-json', json(payload({ command: ['sleep', '120'] }))], {}, {
      onLine: (line, child) => {
        if (!signalled && line === 'LLMCTL_EXECUTOR_STARTED') {
          signalled = true;
          child.kill('SIGINT');
        }
      },
    });
    assert.ok(signalled, 'the start marker arrived live, before the run ended');
    assert.equal(run.code, 130, run.stderr);
    assert.equal(run.result.status, 'cancelled');
    assert.match(run.result.error?.message ?? '', /propagationPolicy Background/);
    const name = String(dispatchOf(run).job);
    await eventually('the pods to be deleted too (not orphaned)', async () => {
      const pods = await c.core.listNamespacedPod({ namespace, labelSelector: `job-name=${name}` });
      return pods.items.length === 0 ? true : undefined;
    });
  });

  it('fails dispatch when the API server does not answer before the Job exists', async (t) => {
    if (!(await ready(t))) return;
    const dir = tempDir();
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters:\n- name: gone\n  cluster:\n    server: https://127.0.0.1:9\ncontexts:\n- name: gone\n  context:\n    cluster: gone\n    user: u\nusers:\n- name: u\n  user:\n    token: t\ncurrent-context: gone\n');
    const run = await runExec(['--provider', 'kubernetes', '--payload-json', json(payload({ command: ['true'] }))], { env: { KUBECONFIG: kubeconfig } });
    assert.equal(run.code, 4);
    assert.equal(run.result.status, 'dispatch_failed');
    assert.equal((run.result.error?.details as { retryable?: boolean }).retryable, true);
    const none = await runExec(['--provider', 'kubernetes', '--payload-json', json(payload({ command: ['true'] }))], { env: { KUBECONFIG: join(dir, 'absent') } });
    assert.equal(none.result.status, 'dispatch_failed');
    assert.match(none.result.error?.message ?? '', /cannot load a kubeconfig: KUBECONFIG names no file/);
  });
});
