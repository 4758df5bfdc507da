/**
 * The `procctl ui` deployments panel beyond local Docker: a `procctl ui` child process lists the
 * processor pod `procctl kube start` started on the real cluster (its namespace by `--namespace`)
 * and the deployment `modalctl start` made on the Modal stand-in (by `--modal-env`), each with its
 * health; a placement it cannot reach shows its error in its own row, and the local one still shows.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, describe, it } from 'node:test';
import type { PlacementStatusReport } from '../../src/ui/deployments.js';
import { cleanEnv, runCli, tempDir } from '../helpers/cli.js';
import { needDocker, pinnedRegistry } from '../helpers/docker.js';
import { dropNamespace, kubeEnv, needKubernetes, testNamespace } from '../helpers/kubernetes.js';
import { standinSuite, TOKEN_SECRET } from '../helpers/modal.js';
import { PROCCTL_BIN } from '../helpers/paths.js';

const children: ChildProcess[] = [];

/** Starts `procctl ui --port 0 …` and returns its deployments report, read with the printed token. */
async function deploymentsOf(args: string[], env: NodeJS.ProcessEnv): Promise<{ reports: PlacementStatusReport[]; body: string }> {
  const ui = spawn(process.execPath, [PROCCTL_BIN, 'ui', '--port', '0', '--artifacts', tempDir('procctl-ui-pl-'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(ui);
  const address = await new Promise<URL>((resolve, reject) => {
    let out = '';
    let err = '';
    const limit = setTimeout(() => reject(new Error(`procctl ui printed no address: ${out}${err}`)), 20_000);
    ui.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    ui.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const found = /http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+/.exec(out);
      if (found) {
        clearTimeout(limit);
        resolve(new URL(found[0]));
      }
    });
    ui.once('exit', (code) => reject(new Error(`procctl ui exited ${code}: ${err}`)));
  });
  try {
    const res = await fetch(`${address.origin}/api/deployments`, { headers: { authorization: `Bearer ${address.searchParams.get('token')}` } });
    assert.equal(res.status, 200);
    const body = await res.text();
    return { reports: JSON.parse(body) as PlacementStatusReport[], body };
  } finally {
    ui.kill('SIGTERM');
  }
}

const placement = (reports: PlacementStatusReport[], name: string) => {
  const found = reports.filter((r) => r.placement === name);
  assert.equal(found.length, 1, `one ${name} report in ${JSON.stringify(reports)}`);
  return found[0] as PlacementStatusReport;
};

after(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

describe('procctl ui lists Kubernetes pods', { concurrency: false }, () => {
  it('shows the started pod with its health, and a context that does not exist as its own error', async (t) => {
    const cluster = await needKubernetes(t);
    if (!cluster || !(await needDocker(t))) return;
    const namespace = await testNamespace(cluster, 'procctl-ui');
    try {
      const env = cleanEnv({ ...kubeEnv(), PROCCTL_REGISTRY: await pinnedRegistry() });
      const start = await runCli(['kube', 'start', '--ref', 'testing/echo@1', '--namespace', namespace, '--json'], { env, cwd: tempDir() });
      assert.equal(start.code, 0, start.stderr);

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

describe('procctl ui lists Modal deployments', { concurrency: false }, () => {
  const s = standinSuite(['uiview']);

  it('shows the deployment of each --modal-env with its state, never a token; bad credentials are that row’s error', async (t) => {
    if (!(await needDocker(t))) return;
    const start = await s.h.modalctl(['start', '--ref', 'testing/echo@1', '--env', 'uiview', '--json']);
    assert.equal(start.code, 0, start.stderr);
    const sandbox = (JSON.parse(start.stdout) as { sandbox_id: string }).sandbox_id;
    try {
      const { reports, body } = await deploymentsOf(['--modal-env', 'uiview', '--no-kube'], s.h.env());
      const modal = placement(reports, 'modal');
      assert.equal(modal.error, undefined, modal.error);
      assert.equal(modal.deployments.length, 1, JSON.stringify(modal));
      assert.equal(modal.deployments[0]?.name, 'procctl-testing-echo-v1-mock');
      assert.equal(modal.deployments[0]?.ref, 'testing/echo@1');
      assert.equal(modal.deployments[0]?.state, 'running');
      assert.equal(modal.deployments[0]?.healthy, true);
      assert.match(modal.deployments[0]?.detail ?? '', new RegExp(`env uiview; sandbox ${sandbox}`));
      assert.doesNotMatch(body, new RegExp(TOKEN_SECRET), 'the Modal token never reaches the page');
      assert.doesNotMatch(body, /"token"/);

      const refused = await deploymentsOf(['--modal-env', 'uiview', '--no-kube'], s.h.env({ MODAL_TOKEN_SECRET: 'as-wrong-secret' }));
      assert.ok(placement(refused.reports, 'modal').error, JSON.stringify(refused.reports));
      assert.doesNotMatch(refused.body, /as-wrong-secret/);
      placement(refused.reports, 'local');
    } finally {
      await s.h.modalctl(['stop', '--ref', 'testing/echo@1', '--env', 'uiview']);
    }
  });

  it('refuses a --modal-env that is not a Modal name, before it listens', async () => {
    const result = await runCli(['ui', '--port', '0', '--modal-env', 'not a name'], { env: cleanEnv() });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /ERR_USAGE.*"not a name" is not a Modal environment name/);
  });
});
