/**
 * The `procctl ui` deployments panel lists the deployment `modalctl start` made on the Modal
 * stand-in (by `--modal-env`) with its state and never a token; refused credentials are that
 * placement's error. The start runs on a pseudo-terminal: the /healthz wait on the live line.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { needDocker } from '../helpers/docker.js';
import { standinSuite, TOKEN_SECRET } from '../helpers/modal.js';
import { MODALCTL_BIN } from '../helpers/paths.js';
import { deploymentsOf, LIVE, onTerminal, placement } from '../helpers/ui.js';

describe('procctl ui lists Modal deployments', { concurrency: false }, () => {
  const s = standinSuite(['uiview']);

  it('shows the deployment of each --modal-env with its state, never a token; bad credentials are that row’s error', async (t) => {
    if (!(await needDocker(t))) return;
    // Started on a terminal: the wait for /healthz on the live line; in a pipe (modalctl status) none.
    const start = await onTerminal(MODALCTL_BIN, ['start', '--ref', 'testing/echo@1', '--env', 'uiview'], s.h.env());
    assert.equal(start.code, 0, start.text);
    assert.ok(start.text.includes(`${LIVE}starting procctl-testing-echo-v1-mock: waiting for /healthz (`), `a live line: ${JSON.stringify(start.text)}`);
    const status = await s.h.modalctl(['status', '--env', 'uiview', '--json']);
    assert.ok(!status.stderr.includes(LIVE));
    const sandbox = (JSON.parse(status.stdout) as { sandbox_id: string }[])[0]?.sandbox_id ?? '';
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
