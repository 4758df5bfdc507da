import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { engine, MOCK_NETWORK, Registry, type SuccessEnvelope } from '../../src/index.js';
import { HELLO_INPUTS, runCli, tempDir } from '../helpers/cli.js';
import { needDocker } from '../helpers/docker.js';
import { ECHO_A, envelopeOf, failure, standinSuite } from '../helpers/modal.js';

describe('modalctl against the Modal stand-in: deploy, run, status, logs, names', { concurrency: false }, () => {
  const s = standinSuite(['dev', 'staging']);

  it('refuses to run a deployment that was never started, naming the start command', async (t) => {
    if (!(await needDocker(t))) return;
    const run = await s.h.modalctl(['run', '--ref', 'testing/echo@1', '--env', 'dev', '--json', '--inputs-json', ECHO_A]);
    const error = failure(run);
    assert.equal(error.code, 'ERR_FUNCTION_NOT_FOUND');
    assert.equal(run.code, 7);
    assert.equal(error.details?.['reason'], 'never-started');
    assert.match(error.message, /was never started; start it with: modalctl start --ref testing\/echo@1 --env dev$/);
    const viaProcctl = await runCli(['run', '--adapter', 'modal', '--env', 'dev', '--ref', 'testing/echo@1', '--json', '--inputs-json', ECHO_A], { env: s.h.env() });
    assert.equal(failure(viaProcctl).code, 'ERR_FUNCTION_NOT_FOUND');
  });

  it('starts a hermetic mock deployment from the pinned digest, reuses it, and its envelope is byte-identical to in-process', async (t) => {
    if (!(await needDocker(t))) return;
    const first = await s.h.modalctl(['start', '--ref', 'llm/litellm@1', '--env', 'dev', '--json'], { env: s.h.env({ OPENAI_API_KEY: 'sk-must-not-enter-mock' }) });
    assert.equal(first.code, 0, first.stderr);
    const shown = JSON.parse(first.stdout) as { name: string; app: string; digest: string; url: string; reused: boolean; sandbox_id: string; expires: string };
    assert.equal(shown.reused, false);
    assert.equal(shown.name, 'procctl-llm-litellm-v1-mock');
    assert.equal(shown.app, 'procctl-dev');
    assert.match(shown.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(shown.digest, new Registry(s.registry).snapshot('llm/litellm@1').entry.image.digests['linux/amd64']);
    assert.match(first.stderr, /healthy at https:\/\//, 'progress on stderr');
    assert.doesNotMatch(first.stdout + first.stderr, /sk-must-not-enter-mock/);

    const second = await s.h.modalctl(['start', '--ref', 'llm/litellm@1', '--env', 'dev', '--json']);
    assert.equal(second.code, 0, second.stderr);
    assert.equal((JSON.parse(second.stdout) as { reused: boolean; sandbox_id: string }).reused, true);
    assert.equal((JSON.parse(second.stdout) as { sandbox_id: string }).sandbox_id, shown.sandbox_id);

    // The sandbox: the pinned image by digest, the registry's limits, no secret, no route out.
    const sandbox = s.h.standin.sandboxes().find((s) => s.id === shown.sandbox_id);
    assert.ok(sandbox);
    const info = await engine().getContainer(sandbox.containerName).inspect();
    assert.equal(info.Config.Image, `127.0.0.1:5000/procctl/llm-litellm@${shown.digest}`);
    assert.equal(info.HostConfig.Memory, 256 * 1024 * 1024);
    assert.deepEqual(Object.keys(info.NetworkSettings.Networks), [MOCK_NETWORK]);
    assert.ok(!(info.Config.Env ?? []).some((e) => e.startsWith('OPENAI_API_KEY=')), 'a mock sandbox holds no secret');
    assert.ok((info.Config.Env ?? []).includes('PROCCTL_RUNTIME_HANDLER_THREADS=1'), 'handler threads capped at the CPU limit, not the host CPUs');
    const create = s.h.requests().find((r) => r.method === 'SandboxCreateV2' && r.line.includes('procctl-llm-litellm-v1-mock'));
    // JSON leaves out empty lists: an allowlist without a single CIDR.
    assert.match(create?.line ?? '', /"networkAccess":\{"networkAccessType":"ALLOWLIST"\}/, 'an empty outbound allowlist, not blockNetwork');

    const args = ['--ref', 'llm/litellm@1', '--inputs-json', HELLO_INPUTS, '--json', '--execution-id', 'modal-parity-1'];
    const onModal = await s.h.modalctl(['run', '--env', 'dev', ...args], { cwd: tempDir() });
    assert.equal(onModal.code, 0, onModal.stderr + onModal.stdout);
    const inProcess = await runCli(['run', ...args], { env: s.h.env(), cwd: tempDir() });
    assert.equal(inProcess.code, 0, inProcess.stderr);
    assert.equal(onModal.stdout, inProcess.stdout, 'byte-identical envelopes');
    const viaAdapter = await runCli(['run', '--adapter', 'modal', '--env', 'dev', ...args], { env: s.h.env(), cwd: tempDir() });
    assert.equal(viaAdapter.stdout, inProcess.stdout, 'procctl run --adapter modal gives the same bytes');
    assert.match((envelopeOf(onModal) as SuccessEnvelope).meta.image_digest ?? '', /^sha256:/);

    const logs = await s.h.modalctl(['logs', '--ref', 'llm/litellm@1', '--env', 'dev']);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /"event":"run","execution_id":"modal-parity-1","ref":"llm\/litellm@1","mode":"mock","status":"success"/, 'logs come from the container');
    const tail = await s.h.modalctl(['logs', '--ref', 'llm/litellm@1', '--env', 'dev', '--tail', '1']);
    assert.equal(tail.stdout.trim().split('\n').length, 1, tail.stdout);
  });

  it('keeps a mock sandbox off every network but its tunnel', async (t) => {
    if (!(await needDocker(t))) return;
    const sandbox = s.h.standin.sandboxes().find((s) => s.name === 'procctl-llm-litellm-v1-mock' && !s.result);
    assert.ok(sandbox, 'the mock deployment of the test before');
    const probe = "fetch('https://registry.npmjs.org/',{signal:AbortSignal.timeout(3000)}).then(()=>console.log('REACHED'),e=>console.log('BLOCKED',e.cause?.code??e.name))";
    const exec = await engine().getContainer(sandbox.containerName).exec({ Cmd: ['node', '-e', probe], AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({});
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve) => (stream.on('data', (c: Buffer) => chunks.push(c)), stream.on('end', resolve)));
    assert.match(Buffer.concat(chunks).toString('utf8'), /BLOCKED/);
  });

  it('shows status from any shell, human and JSON, without the token', async (t) => {
    if (!(await needDocker(t))) return;
    const human = await s.h.modalctl(['status', '--env', 'dev']);
    assert.match(human.stdout, /procctl-llm-litellm-v1-mock +llm\/litellm@1 +dev +mock +running +sha256:/);
    const json = JSON.parse((await s.h.modalctl(['status', '--env', 'dev', '--json'])).stdout) as Record<string, string>[];
    const row = json.find((r) => r['name'] === 'procctl-llm-litellm-v1-mock');
    assert.deepEqual(Object.keys(row ?? {}).sort(), ['created', 'digest', 'env', 'expires', 'mode', 'name', 'owner', 'ref', 'sandbox_id', 'state']);
    const token = (s.h.requests().find((r) => r.method === 'SandboxCreateV2')?.line.match(/"PROCCTL_RUNTIME_TOKEN":"([^"]+)"/) ?? [])[1];
    assert.ok(token && token.length >= 32);
    assert.doesNotMatch(human.stdout + JSON.stringify(json), new RegExp(token));
    const other = await s.h.modalctl(['status', '--env', 'staging']);
    assert.equal(other.stdout, 'no procctl deployments in staging\n', 'environments are kept apart');
  });

  it('keeps two environments and two GIT_BRANCH values side by side', async (t) => {
    if (!(await needDocker(t))) return;
    const branch = (b: string) => s.h.env({ GIT_BRANCH: b, GIT_USER: 'ada' });
    const starts = [
      await s.h.modalctl(['start', '--ref', 'testing/echo@1', '--env', 'dev', '--json'], { env: branch('feat/a') }),
      await s.h.modalctl(['start', '--ref', 'testing/echo@1', '--env', 'dev', '--json'], { env: branch('feat/b') }),
      await s.h.modalctl(['start', '--ref', 'testing/echo@1', '--env', 'staging', '--json'], { env: branch('feat/a') }),
    ];
    for (const s of starts) assert.equal(s.code, 0, s.stderr);
    const shown = starts.map((s) => JSON.parse(s.stdout) as { name: string; sandbox_id: string; app: string; reused: boolean });
    assert.equal(new Set(shown.map((s) => s.sandbox_id)).size, 3, 'three deployments');
    assert.ok(shown.every((s) => !s.reused));
    assert.match(shown[0]!.name, /^procctl-testing-echo-v1-mock-feat-a-ada-[0-9a-f]{10}$/, 'a "/" is not a Modal name character: cleaned, with a stable hash');
    assert.notEqual(shown[0]!.name, shown[1]!.name);
    assert.equal(shown[0]!.name, shown[2]!.name, 'the same name in another environment');
    assert.deepEqual(shown.map((s) => s.app), ['procctl-dev', 'procctl-dev', 'procctl-staging']);
    for (const s of shown) assert.ok(s.name.length < 64);

    const dev = JSON.parse((await s.h.modalctl(['status', '--env', 'dev', '--json'])).stdout) as { name: string; owner: string }[];
    assert.deepEqual(dev.filter((r) => r.owner).map((r) => r.owner).sort(), ['feat/a/ada', 'feat/b/ada']);
    // Stopping feat/a in dev leaves feat/b and staging alone.
    const stop = await s.h.modalctl(['stop', '--ref', 'testing/echo@1', '--env', 'dev'], { env: branch('feat/a') });
    assert.match(stop.stderr, new RegExp(`stopped ${shown[0]!.name}`));
    for (const [b, env] of [['feat/b', 'dev'], ['feat/a', 'staging']] as const) {
      const run = await s.h.modalctl(['run', '--ref', 'testing/echo@1', '--env', env, '--json', '--inputs-json', ECHO_A], { env: branch(b), cwd: tempDir() });
      assert.equal(envelopeOf(run).status, 'success', `${b} in ${env}: ${run.stdout}`);
    }
    const gone = await s.h.modalctl(['run', '--ref', 'testing/echo@1', '--env', 'dev', '--json', '--inputs-json', ECHO_A], { env: branch('feat/a') });
    assert.equal(failure(gone).details?.['reason'], 'stopped');
    assert.match(failure(gone).message, /was stopped; start it with: modalctl start/);
    await s.h.modalctl(['stop', '--all', '--env', 'staging']);
    const staging = JSON.parse((await s.h.modalctl(['status', '--env', 'staging', '--json'])).stdout) as { state: string }[];
    assert.deepEqual(staging.map((r) => r.state), ['stopped']);
  });

});
