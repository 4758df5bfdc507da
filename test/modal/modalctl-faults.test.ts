import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from '../../src/index.js';
import { tempDir } from '../helpers/cli.js';
import { needDocker } from '../helpers/docker.js';
import { assertTyped, ECHO_A, failure, TOKEN_ID, TOKEN_SECRET, standinSuite } from '../helpers/modal.js';

describe('modalctl against the Modal stand-in: faults', { concurrency: false }, () => {
  const s = standinSuite(['dev', 'faults']);

  it('refuses --oci by tag, naming the digest form, and fails with ERR_IMAGE_PULL for an image Modal cannot pull', async (t) => {
    if (!(await needDocker(t))) return;
    const tag = await s.h.modalctl(['start', '--ref', 'testing/echo@1', '--env', 'faults', '--oci', '127.0.0.1:5000/procctl/testing-echo:latest']);
    assert.equal(tag.code, 2);
    assert.match(tag.stderr, /ERR_USAGE: --oci "127\.0\.0\.1:5000\/procctl\/testing-echo:latest" is not a digest reference; .*REPOSITORY@sha256:<64 hex digits>/);
    const pull = await s.h.modalctl(['start', '--ref', 'testing/echo@1', '--env', 'faults', '--oci', `127.0.0.1:5000/procctl/testing-echo@sha256:${'0'.repeat(64)}`]);
    assert.equal(pull.code, 7, pull.stderr);
    assertTyped(pull, 'ERR_IMAGE_PULL');
    assert.match(pull.stderr, /Modal cannot pull 127\.0\.0\.1:5000\/procctl\/testing-echo@sha256:0{64}: .*manifest unknown/);
  });

  it('runs the digest --oci names, and a later start from the pin replaces that deployment', async (t) => {
    if (!(await needDocker(t))) return;
    // --oci runs the litellm image for testing/echo: /healthz must report the digest --oci pinned.
    const snapshot = new Registry(s.registry).snapshot('llm/litellm@1');
    const litellm = `${snapshot.entry.image.repository}@${snapshot.entry.image.digests['linux/amd64']}`;
    const ok = await s.h.modalctl(['start', '--ref', 'testing/echo@1', '--env', 'faults', '--oci', litellm, '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((JSON.parse(ok.stdout) as { digest: string }).digest, snapshot.entry.image.digests['linux/amd64']);
    // Started again from the registry's pin: the running sandbox serves another image, so it is replaced.
    const again = await s.h.modalctl(['start', '--ref', 'testing/echo@1', '--env', 'faults', '--json']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /replacing procctl-testing-echo-v1-mock \(another image\)/);
  });

  it('reports a sandbox that dies mid-run (OOM) as ERR_CONTAINER_EXIT with its exit code and the OOM flag', async (t) => {
    if (!(await needDocker(t))) return;
    assert.equal((await s.h.modalctl(['start', '--ref', 'testing/echo@1', '--env', 'faults'])).code, 0);
    const run = await s.h.modalctl(['run', '--ref', 'testing/echo@1', '--env', 'faults', '--json', '--inputs-json', '{"schema":"v1","params":{"allocate_mb":400,"sleep_ms":500}}'], { cwd: tempDir() });
    const error = failure(run);
    assert.equal(error.code, 'ERR_CONTAINER_EXIT', run.stdout);
    assert.equal(error.details?.['oom_killed'], true);
    assert.equal(error.details?.['exit_code'], 137);
    const status = await s.h.modalctl(['status', '--env', 'faults']);
    assert.match(status.stdout, /procctl-testing-echo-v1-mock .* exited \(OOM\)/);
    const next = await s.h.modalctl(['run', '--ref', 'testing/echo@1', '--env', 'faults', '--json', '--inputs-json', ECHO_A]);
    assert.match(failure(next).message, /was killed for running out of memory \(OOM\); start it with/);
  });

  it('refuses a running deployment whose runtime reports another digest than the pin (ERR_DIGEST_MISMATCH)', async (t) => {
    if (!(await needDocker(t))) return;
    // An impostor made with the bare SDK: the name and tags of the pinned deployment, a runtime
    // that reports another image.
    Object.assign(process.env, { MODAL_SERVER_URL: s.h.standin.url, MODAL_TOKEN_ID: TOKEN_ID, MODAL_TOKEN_SECRET: TOKEN_SECRET });
    const { ModalClient } = await import('modal');
    const client = new ModalClient({ environment: 'faults' });
    const snapshot = new Registry(s.registry).snapshot('testing/echo@1');
    const digest = snapshot.entry.image.digests['linux/amd64'] ?? '';
    const app = await client.apps.fromName('procctl-faults', { environment: 'faults', createIfMissing: true });
    const token = 'impostor-token-'.padEnd(43, 'x');
    await client.sandboxes.create(app, client.images.fromRegistry(`${snapshot.entry.image.repository}@${digest}`), {
      name: 'procctl-testing-echo-v1-real',
      command: ['node', '/app/dist/src/cli/procctl-runtime.js'],
      env: { PROCCTL_RUNTIME_TOKEN: token, PROCCTL_IMAGE_DIGEST: `sha256:${'e'.repeat(64)}`, PROCCTL_RUNTIME_HOST: '0.0.0.0', PROCCTL_RUNTIME_PORT: '8080' },
      encryptedPorts: [8080],
      tags: { 'procctl.managed': '1', 'procctl.ref': 'testing/echo@1', 'procctl.mode': 'real', 'procctl.digest': digest, 'procctl.token': token },
    });
    client.close();
    const start = await s.h.modalctl(['start', '--ref', 'testing/echo@1', '--env', 'faults', '--mode', 'real']);
    assert.equal(start.code, 7, start.stderr);
    assertTyped(start, 'ERR_DIGEST_MISMATCH');
    assert.match(start.stderr, new RegExp(`reports image sha256:e{64}, but testing/echo@1 pins ${digest}`));
  });

  it('turns refused or missing credentials and an unreachable Modal into typed errors', async (t) => {
    if (!(await needDocker(t))) return;
    const wrong = await s.h.modalctl(['status', '--env', 'dev'], { env: s.h.env({ MODAL_TOKEN_SECRET: 'as-wrong' }) });
    assert.equal(wrong.code, 7);
    assertTyped(wrong, 'ERR_MODAL_AUTH');
    assert.match(wrong.stderr, /Modal refused the credentials while .*Invalid token id or secret.*MODAL_TOKEN_ID/);
    const none = s.h.env();
    delete none['MODAL_TOKEN_ID'];
    delete none['MODAL_TOKEN_SECRET'];
    const missing = await s.h.modalctl(['start', '--ref', 'testing/echo@1', '--env', 'dev'], { env: none });
    assert.equal(missing.code, 7);
    assertTyped(missing, 'ERR_MODAL_AUTH');
    assert.match(missing.stderr, /no Modal credentials/);
    const runWrong = await s.h.modalctl(['run', '--ref', 'testing/echo@1', '--env', 'dev', '--json', '--inputs-json', ECHO_A], { env: s.h.env({ MODAL_TOKEN_ID: 'ak-nobody' }) });
    assert.equal(failure(runWrong).code, 'ERR_MODAL_AUTH');
    // Port 9 on loopback: nothing listens, so every connection is refused.
    const down = await s.h.modalctl(['status', '--env', 'dev'], { env: s.h.env({ MODAL_SERVER_URL: 'http://127.0.0.1:9' }) });
    assert.equal(down.code, 7);
    assertTyped(down, 'ERR_MODAL_UNAVAILABLE');
    assert.match(down.stderr, /Modal at http:\/\/127\.0\.0\.1:9 cannot be reached/);
    const badEnv = await s.h.modalctl(['status', '--env', 'no/such']);
    assert.equal(badEnv.code, 2);
    assert.match(badEnv.stderr, /ERR_USAGE: --env "no\/such" is not a Modal environment name/);
  });
});
