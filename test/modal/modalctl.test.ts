import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { engine, MOCK_NETWORK, Registry, type Envelope, type ErrorEnvelope, type SuccessEnvelope } from '../../src/index.js';
import { HELLO_INPUTS, runCli, tempDir, type CliResult } from '../helpers/cli.js';
import { dockerAnswers, needDocker, pinnedRegistry } from '../helpers/docker.js';
import { startStandinHarness, type StandinHarness } from '../helpers/modal.js';
import { startOpenAiServer, type OpenAiServer } from '../helpers/openai-server.js';

const ECHO_A = '{"schema":"v1","params":{"outputs":[{"path":"a.txt","text":"a"}]}}';
const ENVIRONMENTS = ['dev', 'staging', 'race', 'ttl', 'faults', 'secrets'];

function envelopeOf(result: CliResult): Envelope {
  const line = result.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as Envelope;
  } catch {
    throw new Error(`no envelope on stdout (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
}

function failure(result: CliResult): ErrorEnvelope['error'] {
  const envelope = envelopeOf(result);
  assert.equal(envelope.status, 'error', result.stdout);
  return (envelope as ErrorEnvelope).error;
}

function allText(dir: string): string {
  if (!existsSync(dir)) return '';
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile())
    .map((d) => readFileSync(join(d.parentPath, d.name), 'latin1'))
    .join('\n');
}

/** No raw SDK or gRPC error reaches a user: a typed line, no stack. */
function assertTyped(result: CliResult, code: string): void {
  assert.match(result.stderr + result.stdout, new RegExp(code));
  assert.doesNotMatch(result.stderr + result.stdout, /ClientError|\n\s+at .+:\d+:\d+\)?\n|\/nice-grpc\//, 'no raw gRPC error or stack trace');
}

describe('modalctl against the Modal stand-in', { concurrency: false }, () => {
  let registry: string;
  let h: StandinHarness;
  let provider: OpenAiServer;

  before(async () => {
    if (!(await dockerAnswers())) return;
    registry = await pinnedRegistry();
    h = await startStandinHarness(registry, ENVIRONMENTS);
    provider = await startOpenAiServer('0.0.0.0');
  });

  after(async () => {
    await h?.standin.close();
    await provider?.close();
  });

  it('refuses to run a deployment that was never started, naming the start command', async (t) => {
    if (!(await needDocker(t))) return;
    const run = await h.modalctl(['run', '--ref', 'testing/echo@1', '--env', 'dev', '--json', '--inputs-json', ECHO_A]);
    const error = failure(run);
    assert.equal(error.code, 'ERR_FUNCTION_NOT_FOUND');
    assert.equal(run.code, 7);
    assert.equal(error.details?.['reason'], 'never-started');
    assert.match(error.message, /was never started; start it with: modalctl start --ref testing\/echo@1 --env dev$/);
    const viaProcctl = await runCli(['run', '--adapter', 'modal', '--env', 'dev', '--ref', 'testing/echo@1', '--json', '--inputs-json', ECHO_A], { env: h.env() });
    assert.equal(failure(viaProcctl).code, 'ERR_FUNCTION_NOT_FOUND');
  });

  it('starts a hermetic mock deployment from the pinned digest, reuses it, and its envelope is byte-identical to in-process', async (t) => {
    if (!(await needDocker(t))) return;
    const first = await h.modalctl(['start', '--ref', 'llm/litellm@1', '--env', 'dev', '--json'], { env: h.env({ OPENAI_API_KEY: 'sk-must-not-enter-mock' }) });
    assert.equal(first.code, 0, first.stderr);
    const shown = JSON.parse(first.stdout) as { name: string; app: string; digest: string; url: string; reused: boolean; sandbox_id: string; expires: string };
    assert.equal(shown.reused, false);
    assert.equal(shown.name, 'procctl-llm-litellm-v1-mock');
    assert.equal(shown.app, 'procctl-dev');
    assert.match(shown.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(shown.digest, new Registry(registry).snapshot('llm/litellm@1').entry.image.digests['linux/amd64']);
    assert.match(first.stderr, /healthy at https:\/\//, 'progress on stderr');
    assert.doesNotMatch(first.stdout + first.stderr, /sk-must-not-enter-mock/);

    const second = await h.modalctl(['start', '--ref', 'llm/litellm@1', '--env', 'dev', '--json']);
    assert.equal(second.code, 0, second.stderr);
    assert.equal((JSON.parse(second.stdout) as { reused: boolean; sandbox_id: string }).reused, true);
    assert.equal((JSON.parse(second.stdout) as { sandbox_id: string }).sandbox_id, shown.sandbox_id);

    // The sandbox: the pinned image by digest, the registry's limits, no secret, no route out.
    const sandbox = h.standin.sandboxes().find((s) => s.id === shown.sandbox_id);
    assert.ok(sandbox);
    const info = await engine().getContainer(sandbox.containerName).inspect();
    assert.equal(info.Config.Image, `127.0.0.1:5000/procctl/llm-litellm@${shown.digest}`);
    assert.equal(info.HostConfig.Memory, 256 * 1024 * 1024);
    assert.deepEqual(Object.keys(info.NetworkSettings.Networks), [MOCK_NETWORK]);
    assert.ok(!(info.Config.Env ?? []).some((e) => e.startsWith('OPENAI_API_KEY=')), 'a mock sandbox holds no secret');
    const create = h.requests().find((r) => r.method === 'SandboxCreateV2' && r.line.includes('procctl-llm-litellm-v1-mock'));
    assert.match(create?.line ?? '', /"networkAccessType":"ALLOWLIST","allowedCidrs":\[\]/, 'an empty outbound allowlist, not blockNetwork');

    const args = ['--ref', 'llm/litellm@1', '--inputs-json', HELLO_INPUTS, '--json', '--execution-id', 'modal-parity-1'];
    const onModal = await h.modalctl(['run', '--env', 'dev', ...args], { cwd: tempDir() });
    assert.equal(onModal.code, 0, onModal.stderr + onModal.stdout);
    const inProcess = await runCli(['run', ...args], { env: h.env(), cwd: tempDir() });
    assert.equal(inProcess.code, 0, inProcess.stderr);
    assert.equal(onModal.stdout, inProcess.stdout, 'byte-identical envelopes');
    const viaAdapter = await runCli(['run', '--adapter', 'modal', '--env', 'dev', ...args], { env: h.env(), cwd: tempDir() });
    assert.equal(viaAdapter.stdout, inProcess.stdout, 'procctl run --adapter modal gives the same bytes');
    assert.match((envelopeOf(onModal) as SuccessEnvelope).meta.image_digest ?? '', /^sha256:/);

    const logs = await h.modalctl(['logs', '--ref', 'llm/litellm@1', '--env', 'dev']);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /"event":"run","execution_id":"modal-parity-1","ref":"llm\/litellm@1","mode":"mock","status":"success"/, 'logs come from the container');
    const tail = await h.modalctl(['logs', '--ref', 'llm/litellm@1', '--env', 'dev', '--tail', '1']);
    assert.equal(tail.stdout.trim().split('\n').length, 1, tail.stdout);
  });

  it('keeps a mock sandbox off every network but its tunnel', async (t) => {
    if (!(await needDocker(t))) return;
    const sandbox = h.standin.sandboxes().find((s) => s.name === 'procctl-llm-litellm-v1-mock' && !s.result);
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
    const human = await h.modalctl(['status', '--env', 'dev']);
    assert.match(human.stdout, /procctl-llm-litellm-v1-mock +llm\/litellm@1 +dev +mock +running +sha256:/);
    const json = JSON.parse((await h.modalctl(['status', '--env', 'dev', '--json'])).stdout) as Record<string, string>[];
    const row = json.find((r) => r['name'] === 'procctl-llm-litellm-v1-mock');
    assert.deepEqual(Object.keys(row ?? {}).sort(), ['created', 'digest', 'env', 'expires', 'mode', 'name', 'owner', 'ref', 'sandbox_id', 'state']);
    const token = (h.requests().find((r) => r.method === 'SandboxCreateV2')?.line.match(/"PROCCTL_RUNTIME_TOKEN":"([^"]+)"/) ?? [])[1];
    assert.ok(token && token.length >= 32);
    assert.doesNotMatch(human.stdout + JSON.stringify(json), new RegExp(token));
    const other = await h.modalctl(['status', '--env', 'staging']);
    assert.equal(other.stdout, 'no procctl deployments in staging\n', 'environments are kept apart');
  });

  it('keeps two environments and two GIT_BRANCH values side by side', async (t) => {
    if (!(await needDocker(t))) return;
    const branch = (b: string) => h.env({ GIT_BRANCH: b, GIT_USER: 'ada' });
    const starts = [
      await h.modalctl(['start', '--ref', 'testing/echo@1', '--env', 'dev', '--json'], { env: branch('feat/a') }),
      await h.modalctl(['start', '--ref', 'testing/echo@1', '--env', 'dev', '--json'], { env: branch('feat/b') }),
      await h.modalctl(['start', '--ref', 'testing/echo@1', '--env', 'staging', '--json'], { env: branch('feat/a') }),
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

    const dev = JSON.parse((await h.modalctl(['status', '--env', 'dev', '--json'])).stdout) as { name: string; owner: string }[];
    assert.deepEqual(dev.filter((r) => r.owner).map((r) => r.owner).sort(), ['feat/a/ada', 'feat/b/ada']);
    // Stopping feat/a in dev leaves feat/b and staging alone.
    const stop = await h.modalctl(['stop', '--ref', 'testing/echo@1', '--env', 'dev'], { env: branch('feat/a') });
    assert.match(stop.stderr, new RegExp(`stopped ${shown[0]!.name}`));
    for (const [b, env] of [['feat/b', 'dev'], ['feat/a', 'staging']] as const) {
      const run = await h.modalctl(['run', '--ref', 'testing/echo@1', '--env', env, '--json', '--inputs-json', ECHO_A], { env: branch(b), cwd: tempDir() });
      assert.equal(envelopeOf(run).status, 'success', `${b} in ${env}: ${run.stdout}`);
    }
    const gone = await h.modalctl(['run', '--ref', 'testing/echo@1', '--env', 'dev', '--json', '--inputs-json', ECHO_A], { env: branch('feat/a') });
    assert.equal(failure(gone).details?.['reason'], 'stopped');
    assert.match(failure(gone).message, /was stopped; start it with: modalctl start/);
    await h.modalctl(['stop', '--all', '--env', 'staging']);
    const staging = JSON.parse((await h.modalctl(['status', '--env', 'staging', '--json'])).stdout) as { state: string }[];
    assert.deepEqual(staging.map((r) => r.state), ['stopped']);
  });

  it('ends with one deployment when shells start at the same moment, each returning once it is healthy', async (t) => {
    if (!(await needDocker(t))) return;
    const starts = await Promise.all([1, 2, 3, 4].map(() => h.modalctl(['start', '--ref', 'testing/echo@1', '--env', 'race', '--json'])));
    for (const s of starts) assert.equal(s.code, 0, s.stderr);
    const shown = starts.map((s) => JSON.parse(s.stdout) as { sandbox_id: string; reused: boolean });
    assert.equal(new Set(shown.map((s) => s.sandbox_id)).size, 1, 'one sandbox for all');
    assert.equal(shown.filter((s) => !s.reused).length, 1, 'exactly one shell created it');
    assert.equal(h.standin.sandboxes().filter((s) => s.env === 'race').length, 1);
    const run = await h.modalctl(['run', '--ref', 'testing/echo@1', '--env', 'race', '--json', '--inputs-json', ECHO_A], { cwd: tempDir() });
    assert.equal(envelopeOf(run).status, 'success', run.stdout);
  });

  it('lets Modal end a deployment at its --ttl: run says it expired, status shows it expired', async (t) => {
    if (!(await needDocker(t))) return;
    const start = await h.modalctl(['start', '--ref', 'testing/echo@1', '--env', 'ttl', '--ttl', '4s', '--json']);
    assert.equal(start.code, 0, start.stderr);
    const { sandbox_id: id } = JSON.parse(start.stdout) as { sandbox_id: string };
    for (let i = 0; i < 200 && !h.standin.sandboxes().find((s) => s.id === id)?.result; i++) await delay(100);
    const container = h.standin.sandboxes().find((s) => s.id === id)?.containerName ?? '';
    assert.equal((await engine().getContainer(container).inspect()).State.Running, false, 'the timeout really ended the sandbox');
    const run = await h.modalctl(['run', '--ref', 'testing/echo@1', '--env', 'ttl', '--json', '--inputs-json', ECHO_A]);
    const error = failure(run);
    assert.equal(error.code, 'ERR_FUNCTION_NOT_FOUND');
    assert.equal(error.details?.['reason'], 'expired');
    assert.match(error.message, /expired \(it ran past its --ttl\); start it with: modalctl start --ref testing\/echo@1 --env ttl/);
    const status = await h.modalctl(['status', '--env', 'ttl']);
    assert.match(status.stdout, /procctl-testing-echo-v1-mock +testing\/echo@1 +ttl +mock +expired/);
    assert.equal((await h.modalctl(['start', '--ref', 'testing/echo@1', '--env', 'ttl', '--ttl', '25h'])).code, 2, 'past Modal\'s 24 h');
  });

  it('syncs secrets by name, mounts them only in the real sandbox, and the canary appears nowhere else', async (t) => {
    if (!(await needDocker(t))) return;
    const canary = `sk-modal-canary-${process.pid}-${Date.now()}`;
    const cwd = tempDir();
    const env = h.env({ OPENAI_API_KEY: canary, OPENAI_BASE_URL: provider.url.replace(/\/\/[^:]+:/, '//host.docker.internal:') });
    const seen: string[] = [];
    const note = (r: CliResult) => (seen.push(r.stdout, r.stderr), r);

    const missing = note(await h.modalctl(['sync-secrets', '--ref', 'llm/litellm@1', '--env', 'secrets']));
    assert.equal(missing.code, 5);
    assert.match(missing.stderr, /ERR_MISSING_SECRET: .*OPENAI_API_KEY/);
    const early = note(await h.modalctl(['start', '--ref', 'llm/litellm@1', '--env', 'secrets', '--mode', 'real'], { env }));
    assert.equal(early.code, 5, early.stderr);
    assert.match(early.stderr, /create it with: modalctl sync-secrets --ref llm\/litellm@1 --env secrets/);

    const sync = note(await h.modalctl(['sync-secrets', '--ref', 'llm/litellm@1', '--env', 'secrets'], { env }));
    assert.equal(sync.code, 0, sync.stderr);
    assert.equal(sync.stdout, 'synced Modal Secret procctl-llm-litellm-v1 in secrets: OPENAI_API_KEY\n');
    const real = note(await h.modalctl(['start', '--ref', 'llm/litellm@1', '--env', 'secrets', '--mode', 'real', '--json'], { env }));
    assert.equal(real.code, 0, real.stderr);
    const mock = note(await h.modalctl(['start', '--ref', 'llm/litellm@1', '--env', 'secrets', '--json'], { env }));
    assert.equal(mock.code, 0, mock.stderr);

    const run = note(await h.modalctl(['run', '--ref', 'llm/litellm@1', '--env', 'secrets', '--mode', 'real', '--json', '--execution-id', 'modal-real-1', '--inputs-json', '{"schema":"v1","params":{"model":"openai/gpt-m","messages":[{"content":"Hi"}]}}'], { env, cwd }));
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.equal(provider.requests.at(-1)?.authorization, `Bearer ${canary}`, 'the real sandbox used the key');
    assert.deepEqual((envelopeOf(run) as SuccessEnvelope).meta.secrets_present, ['OPENAI_API_KEY']);
    provider.failWith(401, JSON.stringify({ error: { message: `invalid key ${canary}` } }));
    const failed = note(await h.modalctl(['run', '--ref', 'llm/litellm@1', '--env', 'secrets', '--mode', 'real', '--json', '--inputs-json', HELLO_INPUTS], { env, cwd }));
    assert.equal(failure(failed).code, 'ERR_PROVIDER');
    note(await h.modalctl(['run', '--ref', 'llm/litellm@1', '--env', 'secrets', '--json', '--inputs-json', HELLO_INPUTS], { env, cwd }));
    for (const args of [['status', '--env', 'secrets'], ['status', '--env', 'secrets', '--json'], ['logs', '--ref', 'llm/litellm@1', '--env', 'secrets', '--mode', 'real'], ['logs', '--ref', 'llm/litellm@1', '--env', 'secrets']]) note(await h.modalctl(args, { env }));
    seen.push(allText(cwd));

    const [realId, mockId] = [real, mock].map((r) => (JSON.parse(r.stdout) as { sandbox_id: string }).sandbox_id);
    const envOf = async (id: string | undefined) => (await engine().getContainer(h.standin.sandboxes().find((s) => s.id === id)?.containerName ?? '').inspect()).Config.Env ?? [];
    assert.ok((await envOf(realId)).includes(`OPENAI_API_KEY=${canary}`), 'inside the real sandbox');
    assert.ok(!(await envOf(mockId)).some((e) => e.includes(canary)), 'not in the mock sandbox');
    const rpcs = h.requests();
    assert.ok(rpcs.some((r) => r.method === 'SecretGetOrCreate' && r.line.includes(canary)), 'the secret RPC carried it');
    seen.push(...rpcs.filter((r) => r.method !== 'SecretGetOrCreate').map((r) => r.line));
    const found = seen.filter((text) => text.includes(canary));
    assert.equal(found.length, 0, `the canary leaked into: ${found.map((f) => f.slice(0, 200)).join(' || ')}`);
  });

  it('refuses --oci by tag, naming the digest form, and fails with ERR_IMAGE_PULL for an image Modal cannot pull', async (t) => {
    if (!(await needDocker(t))) return;
    const tag = await h.modalctl(['start', '--ref', 'testing/echo@1', '--env', 'faults', '--oci', '127.0.0.1:5000/procctl/testing-echo:latest']);
    assert.equal(tag.code, 2);
    assert.match(tag.stderr, /ERR_USAGE: --oci "127\.0\.0\.1:5000\/procctl\/testing-echo:latest" is not a digest reference; .*REPOSITORY@sha256:<64 hex digits>/);
    const pull = await h.modalctl(['start', '--ref', 'testing/echo@1', '--env', 'faults', '--oci', `127.0.0.1:5000/procctl/testing-echo@sha256:${'0'.repeat(64)}`]);
    assert.equal(pull.code, 7, pull.stderr);
    assertTyped(pull, 'ERR_IMAGE_PULL');
    assert.match(pull.stderr, /Modal cannot pull 127\.0\.0\.1:5000\/procctl\/testing-echo@sha256:0{64}: .*manifest unknown/);
  });

  it('refuses a deployment whose runtime reports another digest than the pin (ERR_DIGEST_MISMATCH)', async (t) => {
    if (!(await needDocker(t))) return;
    // --oci runs the litellm image for testing/echo: its /healthz reports that digest, and the
    // start checks it against what --oci pinned. An impostor: a registry whose pin differs.
    const snapshot = new Registry(registry).snapshot('llm/litellm@1');
    const litellm = `${snapshot.entry.image.repository}@${snapshot.entry.image.digests['linux/amd64']}`;
    const ok = await h.modalctl(['start', '--ref', 'testing/echo@1', '--env', 'faults', '--oci', litellm, '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((JSON.parse(ok.stdout) as { digest: string }).digest, snapshot.entry.image.digests['linux/amd64']);
    // Started again from the registry's pin: the running sandbox serves another image, so it is replaced.
    const again = await h.modalctl(['start', '--ref', 'testing/echo@1', '--env', 'faults', '--json']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /replacing procctl-testing-echo-v1-mock \(another image\)/);
  });

  it('reports a sandbox that dies mid-run (OOM) as ERR_CONTAINER_EXIT with its exit code and the OOM flag', async (t) => {
    if (!(await needDocker(t))) return;
    assert.equal((await h.modalctl(['start', '--ref', 'testing/echo@1', '--env', 'faults'])).code, 0);
    const run = await h.modalctl(['run', '--ref', 'testing/echo@1', '--env', 'faults', '--json', '--inputs-json', '{"schema":"v1","params":{"allocate_mb":400,"sleep_ms":500}}'], { cwd: tempDir() });
    const error = failure(run);
    assert.equal(error.code, 'ERR_CONTAINER_EXIT', run.stdout);
    assert.equal(error.details?.['oom_killed'], true);
    assert.equal(error.details?.['exit_code'], 137);
    const status = await h.modalctl(['status', '--env', 'faults']);
    assert.match(status.stdout, /procctl-testing-echo-v1-mock .* exited \(OOM\)/);
    const next = await h.modalctl(['run', '--ref', 'testing/echo@1', '--env', 'faults', '--json', '--inputs-json', ECHO_A]);
    assert.match(failure(next).message, /was killed for running out of memory \(OOM\); start it with/);
  });

  it('turns refused or missing credentials and an unreachable Modal into typed errors', async (t) => {
    if (!(await needDocker(t))) return;
    const wrong = await h.modalctl(['status', '--env', 'dev'], { env: h.env({ MODAL_TOKEN_SECRET: 'as-wrong' }) });
    assert.equal(wrong.code, 7);
    assertTyped(wrong, 'ERR_MODAL_AUTH');
    assert.match(wrong.stderr, /Modal refused the credentials while .*Invalid token id or secret.*MODAL_TOKEN_ID/);
    const none = h.env();
    delete none['MODAL_TOKEN_ID'];
    delete none['MODAL_TOKEN_SECRET'];
    const missing = await h.modalctl(['start', '--ref', 'testing/echo@1', '--env', 'dev'], { env: none });
    assert.equal(missing.code, 7);
    assertTyped(missing, 'ERR_MODAL_AUTH');
    assert.match(missing.stderr, /no Modal credentials/);
    const runWrong = await h.modalctl(['run', '--ref', 'testing/echo@1', '--env', 'dev', '--json', '--inputs-json', ECHO_A], { env: h.env({ MODAL_TOKEN_ID: 'ak-nobody' }) });
    assert.equal(failure(runWrong).code, 'ERR_MODAL_AUTH');
    // Port 9 on loopback: nothing listens, so every connection is refused.
    const down = await h.modalctl(['status', '--env', 'dev'], { env: h.env({ MODAL_SERVER_URL: 'http://127.0.0.1:9' }) });
    assert.equal(down.code, 7);
    assertTyped(down, 'ERR_MODAL_UNAVAILABLE');
    assert.match(down.stderr, /Modal at http:\/\/127\.0\.0\.1:9 cannot be reached/);
    const badEnv = await h.modalctl(['status', '--env', 'no/such']);
    assert.equal(badEnv.code, 2);
    assert.match(badEnv.stderr, /ERR_USAGE: --env "no\/such" is not a Modal environment name/);
  });
});
