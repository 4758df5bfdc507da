// The kubeconfig rules and the pod-state readings, without a cluster: they decide which typed
// error a user sees, so each class of input gets one.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { connectCluster } from '../../src/kubernetes/client.js';
import { imagePullProblem, labelValue, termination } from '../../src/kubernetes/pods.js';
import { podFailure } from '../../src/kubernetes/processors.js';
import { ProcctlError } from '../../src/contracts/errors.js';
import { tempDir } from '../helpers/cli.js';

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
- name: a
  cluster: { server: "https://127.0.0.1:9" }
contexts:
- name: one
  context: { cluster: a, user: u, namespace: team-a }
- name: two
  context: { cluster: a, user: u }
users:
- name: u
  user: { token: t }
current-context: one
`;

function kubeconfigFile(text = KUBECONFIG): string {
  const file = join(tempDir(), 'config');
  writeFileSync(file, text);
  return file;
}

async function rejectsWith(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => err instanceof ProcctlError && err.code === code && message.test(err.message));
}

describe('kubeconfig', () => {
  it('takes KUBECONFIG, the context and its namespace, and lets flags choose', async () => {
    const file = kubeconfigFile();
    const one = await connectCluster({ env: { KUBECONFIG: file } });
    assert.equal(one.namespace, 'team-a');
    assert.equal(one.server, 'https://127.0.0.1:9');
    assert.equal((await connectCluster({ env: { KUBECONFIG: file }, context: 'two' })).namespace, 'default');
    assert.equal((await connectCluster({ env: { KUBECONFIG: file }, namespace: 'other' })).namespace, 'other');
  });

  it('falls back to ~/.kube/config', async () => {
    const home = tempDir();
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(home, '.kube'));
    writeFileSync(join(home, '.kube', 'config'), KUBECONFIG);
    assert.equal((await connectCluster({ env: { HOME: home } })).namespace, 'team-a');
  });

  it('names what is wrong: no kubeconfig, an unknown context, a bad namespace', async () => {
    await rejectsWith(connectCluster({ env: { HOME: tempDir() } }), 'ERR_KUBERNETES_UNAVAILABLE', /no KUBECONFIG, no .*\.kube\/config, and not inside a cluster; .*\.ci\/kubernetes\.sh/);
    await rejectsWith(connectCluster({ env: { KUBECONFIG: '/nonexistent/a:/nonexistent/b' } }), 'ERR_KUBERNETES_UNAVAILABLE', /KUBECONFIG names no file that exists/);
    await rejectsWith(connectCluster({ env: { KUBECONFIG: kubeconfigFile('{{{ not yaml') } }), 'ERR_KUBERNETES_UNAVAILABLE', /cannot load a kubeconfig/);
    await rejectsWith(connectCluster({ env: { KUBECONFIG: kubeconfigFile() }, context: 'three' }), 'ERR_USAGE', /--context three is not in the kubeconfig \(it has: one, two\)/);
    for (const ns of ['Team', '-a', 'a_b', 'x'.repeat(64), '', 'é'])
      await rejectsWith(connectCluster({ env: { KUBECONFIG: kubeconfigFile() }, namespace: ns }), 'ERR_USAGE', /is not a Kubernetes namespace name/);
  });
});

describe('pod state', () => {
  const pod = (status: object) => ({ metadata: { name: 'p' }, spec: { containers: [{ name: 'runtime', image: 'img' }] }, status });

  it('sees unpullable images by their waiting reason, and nothing else', () => {
    for (const reason of ['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName'])
      assert.deepEqual(imagePullProblem(pod({ containerStatuses: [{ name: 'runtime', state: { waiting: { reason, message: 'm' } } }] }), 'runtime'), { reason, message: 'm' });
    assert.equal(imagePullProblem(pod({ containerStatuses: [{ name: 'runtime', state: { waiting: { reason: 'ContainerCreating' } } }] }), 'runtime'), undefined);
    const failure = podFailure(pod({ containerStatuses: [{ name: 'runtime', state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "img"' } } }] }));
    assert.equal(failure?.code, 'ERR_IMAGE_PULL');
    assert.match(failure?.message ?? '', /pod p cannot pull img: ImagePullBackOff: Back-off pulling image "img"/);
  });

  it('reads a termination with its exit code and OOM flag, current or last', () => {
    assert.deepEqual(termination(pod({ containerStatuses: [{ name: 'runtime', state: { terminated: { exitCode: 137, reason: 'OOMKilled' } } }] }), 'runtime'), { exitCode: 137, reason: 'OOMKilled', oomKilled: true, previous: false });
    assert.deepEqual(termination(pod({ containerStatuses: [{ name: 'runtime', state: { running: {} }, lastState: { terminated: { exitCode: 1, reason: 'Error' } } }] }), 'runtime'), { exitCode: 1, reason: 'Error', oomKilled: false, previous: true });
    const failure = podFailure(pod({ phase: 'Failed', containerStatuses: [{ name: 'runtime', state: { terminated: { exitCode: 137, reason: 'OOMKilled' } } }] }));
    assert.equal(failure?.code, 'ERR_CONTAINER_EXIT');
    assert.deepEqual(failure?.details, { exit_code: 137, oom_killed: true });
    assert.equal(podFailure(pod({ phase: 'Running', containerStatuses: [{ name: 'runtime', state: { running: {} } }] })), undefined);
  });

  it('keeps only label-safe values as labels', () => {
    for (const ok of ['', 'a', 'req-1', 'A.b_c-9', 'x'.repeat(63)]) assert.equal(labelValue(ok), ok);
    for (const bad of ['-a', 'a-', 'x'.repeat(64), 'a b', 'a/b', 'é', 'a\n']) assert.equal(labelValue(bad), undefined);
  });
});
