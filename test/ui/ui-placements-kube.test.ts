/**
 * The `procctl ui` deployments panel lists the processor pod `procctl kube start` started on the
 * real cluster (its namespace by `--namespace`) with its health; a context that does not exist is
 * that placement's error, and the local placement still shows. The start runs on a pseudo-terminal:
 * the pod's phase on the live line.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cleanEnv } from '../helpers/cli.js';
import { needDocker, pinnedRegistry } from '../helpers/docker.js';
import { dropNamespace, kubeEnv, needKubernetes, testNamespace } from '../helpers/kubernetes.js';
import { PROCCTL_BIN } from '../helpers/paths.js';
import { deploymentsOf, LIVE, onTerminal, placement } from '../helpers/ui.js';

describe('procctl ui lists Kubernetes pods', { concurrency: false }, () => {
  it('shows the started pod with its health, and a context that does not exist as its own error', async (t) => {
    const cluster = await needKubernetes(t);
    if (!cluster || !(await needDocker(t))) return;
    const namespace = await testNamespace(cluster, 'procctl-ui');
    try {
      const env = cleanEnv({ ...kubeEnv(), PROCCTL_REGISTRY: await pinnedRegistry() });
      // Started on a terminal: the pod's phase on the live line while it starts, then the milestone.
      const start = await onTerminal(PROCCTL_BIN, ['kube', 'start', '--ref', 'testing/echo@1', '--namespace', namespace], env);
      assert.equal(start.code, 0, start.text);
      assert.ok(start.text.includes(`${LIVE}starting pod procctl-testing-echo-v1-mock: `), `a live line: ${JSON.stringify(start.text)}`);
      assert.match(start.text, /procctl-testing-echo-v1-mock healthy on node /);

      const { reports } = await deploymentsOf(['--namespace', namespace], env);
      const kube = placement(reports, 'kubernetes');
      assert.equal(kube.error, undefined);
      assert.equal(kube.deployments.length, 1, JSON.stringify(kube));
      assert.equal(kube.deployments[0]?.name, `${namespace}/procctl-testing-echo-v1-mock`);
      assert.equal(kube.deployments[0]?.ref, 'testing/echo@1');
      assert.equal(kube.deployments[0]?.mode, 'mock');
      assert.equal(kube.deployments[0]?.state, 'Running');
      assert.equal(kube.deployments[0]?.healthy, true);
      placement(reports, 'local');

      const wrong = await deploymentsOf(['--context', 'no-such-context', '--namespace', namespace], env);
      assert.match(placement(wrong.reports, 'kubernetes').error ?? '', /no-such-context/);
      assert.equal(placement(wrong.reports, 'local').placement, 'local', 'the other placements still show');
    } finally {
      await dropNamespace(cluster, namespace);
    }
  });

  it('leaves Kubernetes out with --no-kube', async (t) => {
    const cluster = await needKubernetes(t);
    if (!cluster) return;
    const { reports } = await deploymentsOf(['--no-kube'], cleanEnv(kubeEnv()));
    assert.deepEqual(
      reports.map((r) => r.placement),
      ['local'],
    );
  });
});

