import assert from 'node:assert/strict';
import { cpSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { engine, FsArtifactStore, ContainerAdapter, Registry, startContainer, startedContainerName, MOCK_NETWORK, type Envelope, type ProcctlError, type ErrorEnvelope, type SuccessEnvelope } from '../../src/index.js';
import { allText, cleanEnv, HELLO_INPUTS, runCli, signalWhen, tempDir, type CliResult } from '../helpers/cli.js';
import { dockerAnswers, needDocker, pinnedRegistry } from '../helpers/docker.js';
import { startOpenAiServer, type OpenAiServer } from '../helpers/openai-server.js';
import { LOCALCTL_BIN } from '../helpers/paths.js';

const localctl = (args: string[], options: Parameters<typeof runCli>[1] = {}) => runCli(args, { ...options, bin: LOCALCTL_BIN });

function envelopeOf(result: CliResult): Envelope {
  const line = result.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as Envelope;
  } catch {
    throw new Error(`no envelope on stdout (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
}

function errorCode(result: CliResult): string {
  const envelope = envelopeOf(result);
  assert.equal(envelope.status, 'error', result.stdout);
  return (envelope as ErrorEnvelope).error.code;
}

async function execIn(containerName: string, script: string): Promise<string> {
  const exec = await engine().getContainer(containerName).exec({ Cmd: ['node', '-e', script], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({});
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve) => {
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', resolve);
  });
  return Buffer.concat(chunks).toString('utf8');
}

describe('localctl against the real Docker engine', { concurrency: false }, () => {
  let registry: string;
  let provider: OpenAiServer;
  let cwd: string;
  const base = (extra: NodeJS.ProcessEnv = {}) => cleanEnv({ PROCCTL_REGISTRY: registry, ...extra });

  /** The started containers these tests use, in both modes, whoever started them. */
  const stopOurs = async () => {
    await localctl(['stop', '--ref', 'llm/litellm@1', '--grace', '1'], { env: base() });
    await localctl(['stop', '--ref', 'testing/echo@1', '--grace', '1'], { env: base() });
  };

  before(async () => {
    if (!(await dockerAnswers())) return;
    registry = await pinnedRegistry();
    // Left over from a developer's own `localctl start`, they would serve another pin.
    await stopOurs();
    // Bound to all interfaces: containers reach the host through the bridge, not loopback.
    provider = await startOpenAiServer('0.0.0.0');
    cwd = tempDir();
  });

  after(async () => {
    if (!(await dockerAnswers())) return;
    await stopOurs();
    await provider?.close();
  });

  it('pins the built image by digest in the registry entry', async (t) => {
    if (!(await needDocker(t))) return;
    const entry = new Registry(registry).snapshot('llm/litellm@1').entry;
    const digest = entry.image.digests['linux/amd64'] ?? entry.image.digests['linux/arm64'];
    assert.match(digest ?? '', /^sha256:[0-9a-f]{64}$/);
    const image = await engine().getImage(`${entry.image.repository}@${digest}`).inspect();
    assert.equal(image.Config.Labels?.['procctl.ref'], 'llm/litellm@1');
  });

  it('fails with ERR_IMAGE_BUILD when the image cannot be pushed to its repository', async (t) => {
    if (!(await needDocker(t))) return;
    const reg = tempDir();
    cpSync(registry, reg, { recursive: true });
    const file = join(reg, 'testing-echo-v1', 'registry.yaml');
    // Port 9 on loopback: nothing listens, so the push is refused at once.
    writeFileSync(file, readFileSync(file, 'utf8').replace('repository: 127.0.0.1:5000/', 'repository: 127.0.0.1:9/'));
    const before = readFileSync(file, 'utf8');
    const result = await runCli(['images', 'build', '--ref', 'testing/echo@1', '--registry', reg], { env: base() });
    assert.equal(result.code, 7, result.stderr);
    assert.match(result.stderr, /error ERR_IMAGE_BUILD: pushing 127\.0\.0\.1:9\/procctl\/testing-echo:latest failed: .*connection refused/);
    assert.equal(readFileSync(file, 'utf8'), before, 'no pin was written');
  });

  it('refuses to run before start, naming the command that starts it', async (t) => {
    if (!(await needDocker(t))) return;
    const result = await localctl(['run', '--ref', 'llm/litellm@1', '--inputs-json', HELLO_INPUTS, '--json'], { env: base(), cwd });
    assert.equal(errorCode(result), 'ERR_CONTAINER_NOT_RUNNING');
    assert.equal(result.code, 7);
    assert.match(result.stdout, /localctl start --ref llm\/litellm@1/);
  });

  it('starts a hermetic mock container with labels and limits, and reuses it on a second start', async (t) => {
    if (!(await needDocker(t))) return;
    const first = await localctl(['start', '--ref', 'llm/litellm@1', '--json'], { env: base({ OPENAI_API_KEY: 'sk-must-not-enter-mock' }) });
    assert.equal(first.code, 0, first.stderr);
    assert.equal((JSON.parse(first.stdout) as { reused: boolean }).reused, false);
    assert.match(first.stderr, /healthy at http:\/\//, 'progress on stderr');
    const second = await localctl(['start', '--ref', 'llm/litellm@1', '--json'], { env: base() });
    assert.equal((JSON.parse(second.stdout) as { reused: boolean }).reused, true);

    const info = await engine().getContainer(startedContainerName('llm-litellm-v1', 'mock')).inspect();
    assert.equal(info.Config.Labels?.['procctl.ref'], 'llm/litellm@1');
    assert.equal(info.Config.Labels?.['procctl.mode'], 'mock');
    assert.deepEqual(Object.keys(info.NetworkSettings.Networks), [MOCK_NETWORK]);
    assert.equal(info.HostConfig.Memory, 256 * 1024 * 1024);
    assert.equal(info.HostConfig.PidsLimit, 128);
    assert.equal(info.HostConfig.NanoCpus, 1e9);
    assert.ok((info.Config.Env ?? []).includes('PROCCTL_RUNTIME_HANDLER_THREADS=1'), 'handler threads capped at the CPU limit, not the host CPUs');
    assert.ok(!(info.Config.Env ?? []).some((e) => e.startsWith('OPENAI_API_KEY=')), 'a mock container holds no secret');
    const network = await engine().getNetwork(MOCK_NETWORK).inspect();
    assert.equal(network.Internal, true);
  });

  it('shares one container between shells that start it at the same moment, each returning once it is healthy', async (t) => {
    if (!(await needDocker(t))) return;
    await localctl(['stop', '--ref', 'testing/echo@1', '--grace', '0'], { env: base() });
    const starts = await Promise.all([1, 2, 3, 4].map(() => localctl(['start', '--ref', 'testing/echo@1', '--json'], { env: base() })));
    for (const start of starts) assert.equal(start.code, 0, start.stderr);
    const shown = starts.map((start) => JSON.parse(start.stdout) as { endpoint: string; reused: boolean });
    assert.equal(new Set(shown.map((s) => s.endpoint)).size, 1, 'one endpoint for all');
    assert.equal(shown.filter((s) => !s.reused).length, 1, 'exactly one shell started it');
    const managed = await engine().listContainers({ all: true, filters: { name: [startedContainerName('testing-echo-v1', 'mock')] } });
    assert.equal(managed.length, 1);
    assert.equal(managed[0]?.State, 'running');
    // Healthy when each start returned: a run right away succeeds.
    const run = await localctl(['run', '--ref', 'testing/echo@1', '--json', '--inputs-json', '{"schema":"v1","params":{"outputs":[{"path":"a.txt","text":"a"}]}}'], { env: base(), cwd });
    assert.equal(envelopeOf(run).status, 'success', run.stdout);
  });

  it('has no route out of a mock container: not to the internet, not to host services', async (t) => {
    if (!(await needDocker(t))) return;
    const port = provider.url.match(/:(\d+)\//)?.[1];
    const probe = (url: string) => `fetch(${JSON.stringify(url)},{signal:AbortSignal.timeout(3000)}).then(()=>console.log('REACHED'),e=>console.log('BLOCKED',e.cause?.code??e.name))`;
    const name = startedContainerName('llm-litellm-v1', 'mock');
    const info = await engine().getNetwork(MOCK_NETWORK).inspect();
    const gateway = (info.IPAM?.Config as { Gateway?: string }[] | undefined)?.[0]?.Gateway ?? '172.17.0.1';
    for (const url of [`http://${gateway}:${port}/v1/models`, `http://172.17.0.1:${port}/v1/models`, 'http://192.0.2.1/', 'https://registry.npmjs.org/']) {
      assert.match(await execIn(name, probe(url)), /BLOCKED/, url);
    }
  });

  it('gives the same envelope bytes in the container as in-process', async (t) => {
    if (!(await needDocker(t))) return;
    const args = ['--ref', 'llm/litellm@1', '--inputs-json', HELLO_INPUTS, '--json', '--execution-id', 'parity-1'];
    const inContainer = await localctl(['run', ...args], { env: base(), cwd: tempDir() });
    assert.equal(inContainer.code, 0, inContainer.stderr + inContainer.stdout);
    const inProcess = await runCli(['run', ...args], { env: base(), cwd: tempDir() });
    assert.equal(inProcess.code, 0, inProcess.stderr);
    assert.equal(inContainer.stdout, inProcess.stdout);
    assert.match((envelopeOf(inContainer) as SuccessEnvelope).meta.image_digest ?? '', /^sha256:/);
    const logs = await localctl(['logs', '--ref', 'llm/litellm@1'], { env: base() });
    assert.match(logs.stdout, /\{"event":"run","execution_id":"parity-1","ref":"llm\/litellm@1","mode":"mock","status":"success","duration_ms":[\d.]+\}/, 'the container logs each run');
  });

  it('shows status from any shell, human and JSON, without tokens', async (t) => {
    if (!(await needDocker(t))) return;
    const human = await localctl(['status'], { env: base() });
    assert.match(human.stdout, /procctl-llm-litellm-v1-mock +llm\/litellm@1 +mock +running/);
    const json = JSON.parse((await localctl(['status', '--json'], { env: base() })).stdout) as { name: string; endpoint: string }[];
    const row = json.find((r) => r.name === 'procctl-llm-litellm-v1-mock');
    assert.match(row?.endpoint ?? '', /^http:\/\/[\d.]+:8080$/);
    const info = await engine().getContainer('procctl-llm-litellm-v1-mock').inspect();
    const token = (info.Config.Env ?? []).find((e) => e.startsWith('PROCCTL_RUNTIME_TOKEN='))?.split('=')[1] ?? 'missing';
    assert.ok(token.length >= 32);
    assert.doesNotMatch(human.stdout + JSON.stringify(json), new RegExp(token));
  });

  it('refuses real mode start without the required secret, listing its name', async (t) => {
    if (!(await needDocker(t))) return;
    const result = await localctl(['start', '--ref', 'llm/litellm@1', '--mode', 'real'], { env: base() });
    assert.equal(result.code, 5);
    assert.match(result.stderr, /ERR_MISSING_SECRET: .*needs secret\(s\) OPENAI_API_KEY/);
    await assert.rejects(engine().getContainer(startedContainerName('llm-litellm-v1', 'real')).inspect(), 'nothing was created');
  });

  it('runs real mode in a container against the provider, and the secret canary is never found', async (t) => {
    if (!(await needDocker(t))) return;
    const canary = `sk-canary-${process.pid}-${Date.now()}`;
    const env = base({ OPENAI_API_KEY: canary, OPENAI_BASE_URL: provider.url.replace(/\/\/[^:]+:/, '//host.docker.internal:') });
    const outputs: string[] = [];
    const start = await localctl(['start', '--ref', 'llm/litellm@1', '--mode', 'real'], { env });
    outputs.push(start.stdout, start.stderr);
    assert.equal(start.code, 0, start.stderr);
    const run = await localctl(['run', '--ref', 'llm/litellm@1', '--mode', 'real', '--json', '--execution-id', 'real-c1', '--inputs-json', '{"schema":"v1","params":{"model":"openai/gpt-c","messages":[{"content":"Hi"}]}}'], { env, cwd });
    outputs.push(run.stdout, run.stderr);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.equal(provider.requests.at(-1)?.authorization, `Bearer ${canary}`, 'the container used the key');
    assert.deepEqual((envelopeOf(run) as SuccessEnvelope).meta.secrets_present, ['OPENAI_API_KEY']);
    provider.failWith(401, JSON.stringify({ error: { message: `invalid key ${canary}` } }));
    const failed = await localctl(['run', '--ref', 'llm/litellm@1', '--mode', 'real', '--json', '--inputs-json', HELLO_INPUTS], { env, cwd });
    outputs.push(failed.stdout, failed.stderr);
    assert.equal(errorCode(failed), 'ERR_PROVIDER');
    for (const args of [['status'], ['status', '--json'], ['logs', '--ref', 'llm/litellm@1', '--mode', 'real']]) {
      const r = await localctl(args, { env });
      outputs.push(r.stdout, r.stderr);
    }
    outputs.push(allText(cwd));
    const found = outputs.filter((text) => text.includes(canary));
    assert.equal(found.length, 0, `the canary leaked into: ${found.map((f) => f.slice(0, 200)).join(' || ')}`);
    await localctl(['stop', '--ref', 'llm/litellm@1', '--mode', 'real', '--grace', '1'], { env });
  });

  it('refuses a container whose image is no longer the pinned one', async (t) => {
    if (!(await needDocker(t))) return;
    const reg = tempDir();
    cpSync(registry, reg, { recursive: true });
    const file = join(reg, 'llm-litellm-v1', 'registry.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/sha256:[0-9a-f]{64}/, `sha256:${'a'.repeat(64)}`));
    const result = await localctl(['run', '--ref', 'llm/litellm@1', '--registry', reg, '--inputs-json', HELLO_INPUTS, '--json'], { env: base() });
    assert.equal(errorCode(result), 'ERR_DIGEST_MISMATCH');
  });

  it('fails with ERR_IMAGE_PULL, in the registry\'s words, for a digest the registry lacks', async (t) => {
    if (!(await needDocker(t))) return;
    const reg = tempDir();
    cpSync(registry, reg, { recursive: true });
    const file = join(reg, 'testing-echo-v1', 'registry.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/linux\/amd64: sha256:[0-9a-f]{64}/, `linux/amd64: sha256:${'0'.repeat(64)}`).replace(/linux\/arm64: sha256:[0-9a-f]{64}/, `linux/arm64: sha256:${'0'.repeat(64)}`));
    const result = await localctl(['start', '--ref', 'testing/echo@1', '--registry', reg], { env: base() });
    assert.equal(result.code, 7, result.stderr);
    assert.match(result.stderr, /ERR_IMAGE_PULL: cannot pull 127\.0\.0\.1:5000\/procctl\/testing-echo@sha256:0{64}: .*manifest unknown/);
  });

  it('ends a run past timeout_s with ERR_TIMEOUT, and the container keeps serving', async (t) => {
    if (!(await needDocker(t))) return;
    assert.equal((await localctl(['start', '--ref', 'testing/echo@1'], { env: base() })).code, 0);
    const slow = await localctl(['run', '--ref', 'testing/echo@1', '--json', '--inputs-json', '{"schema":"v1","params":{"sleep_ms":5000}}'], { env: base(), cwd });
    assert.equal(errorCode(slow), 'ERR_TIMEOUT');
    const next = await localctl(['run', '--ref', 'testing/echo@1', '--json', '--inputs-json', '{"schema":"v1","params":{"outputs":[{"path":"a.txt","text":"a"}]}}'], { env: base(), cwd });
    assert.equal(envelopeOf(next).status, 'success', next.stdout);
  });

  it('reports an OOM-killed container as ERR_CONTAINER_EXIT with the OOM flag', async (t) => {
    if (!(await needDocker(t))) return;
    assert.equal((await localctl(['start', '--ref', 'testing/echo@1'], { env: base() })).code, 0);
    const result = await localctl(['run', '--ref', 'testing/echo@1', '--json', '--inputs-json', '{"schema":"v1","params":{"allocate_mb":400,"sleep_ms":500}}'], { env: base(), cwd });
    const envelope = envelopeOf(result) as ErrorEnvelope;
    assert.equal(envelope.error.code, 'ERR_CONTAINER_EXIT', result.stdout);
    assert.equal(envelope.error.details?.['oom_killed'], true);
    assert.equal(envelope.error.details?.['exit_code'], 137);
    // The dead container keeps its logs for whoever wants to know why, until stop removes it.
    const logs = await localctl(['logs', '--ref', 'testing/echo@1'], { env: base() });
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /"event":"listening"/);
    assert.match(logs.stderr, /procctl-testing-echo-v1-mock is not running; its logs up to when it stopped:/);
    // And the next run says what happened to it, not just that nothing runs.
    const next = await localctl(['run', '--ref', 'testing/echo@1', '--json', '--inputs-json', '{"schema":"v1","params":{}}'], { env: base(), cwd });
    assert.equal(next.code, 7);
    const error = (envelopeOf(next) as ErrorEnvelope).error;
    assert.equal(error.code, 'ERR_CONTAINER_NOT_RUNNING');
    assert.match(error.message, /the started mock container for testing\/echo@1 was killed for running out of memory \(OOM\); see why with: localctl logs --ref testing\/echo@1; start it again with: localctl start --ref testing\/echo@1$/);
    assert.deepEqual(error.details, { ref: 'testing/echo@1', mode: 'mock', exit_code: 137, oom_killed: true });
  });

  it('reports a container killed mid-run as ERR_CONTAINER_EXIT with its exit code', async (t) => {
    if (!(await needDocker(t))) return;
    assert.equal((await localctl(['start', '--ref', 'testing/echo@1'], { env: base() })).code, 0);
    const snapshot = new Registry(registry).snapshot('testing/echo@1');
    const adapter = new ContainerAdapter({ store: new FsArtifactStore(tempDir()), policy: 'started' });
    let killed = false;
    const envelope = await adapter.invoke({
      processorRef: 'testing/echo@1',
      inputsJson: { schema: 'v1', mode: 'mock', params: { sleep_ms: 900 } },
      writePrefix: 'x/{execution_id}/',
      executionId: 'killed-1',
      registrySnapshot: snapshot,
      secretsPresent: [],
      adapterOpts: {
        onEvent: (event) => {
          if (event.kind === 'log' && !killed) {
            killed = true;
            void engine().getContainer(startedContainerName('testing-echo-v1', 'mock')).kill({ signal: 'SIGKILL' });
          }
        },
      },
    });
    assert.ok(killed, 'the run started');
    assert.equal(envelope.status, 'error');
    const error = (envelope as ErrorEnvelope).error;
    assert.equal(error.code, 'ERR_CONTAINER_EXIT', JSON.stringify(error));
    assert.equal(error.details?.['oom_killed'], false);
    assert.equal(error.details?.['exit_code'], 137);
  });

  it('replaces a started real container whose secrets changed in this environment, naming them, never their values', async (t) => {
    if (!(await needDocker(t))) return;
    const start = (extra: NodeJS.ProcessEnv) => localctl(['start', '--ref', 'testing/echo@1', '--mode', 'real', '--json'], { env: base(extra) });
    const reused = (result: CliResult) => {
      assert.equal(result.code, 0, result.stderr);
      return (JSON.parse(result.stdout) as { reused: boolean }).reused;
    };
    await localctl(['stop', '--ref', 'testing/echo@1', '--mode', 'real', '--grace', '0'], { env: base() });
    assert.equal(reused(await start({ ECHO_TOKEN: 'first-canary-7f3a' })), false);
    assert.equal(reused(await start({ ECHO_TOKEN: 'first-canary-7f3a' })), true);
    const rotated = await start({ ECHO_TOKEN: 'second-canary-9c1e' });
    assert.equal(reused(rotated), false);
    assert.match(rotated.stderr, /replacing procctl-testing-echo-v1-real \(ECHO_TOKEN changed in this environment\)/);
    const added = await start({ ECHO_TOKEN: 'second-canary-9c1e', ECHO_EXTRA: 'extra-canary-4b2d' });
    assert.equal(reused(added), false);
    assert.match(added.stderr, /\(ECHO_EXTRA changed in this environment\)/);
    for (const result of [rotated, added]) assert.doesNotMatch(result.stdout + result.stderr, /canary/);
    const info = await engine().getContainer(startedContainerName('testing-echo-v1', 'real')).inspect();
    assert.equal(info.Config.Labels?.['procctl.passed'], 'ECHO_EXTRA,ECHO_TOKEN');
    await localctl(['stop', '--ref', 'testing/echo@1', '--mode', 'real', '--grace', '0'], { env: base() });
  });

  it('reports a container that dies while starting as ERR_CONTAINER_EXIT with its exit code and last words, and removes it', async (t) => {
    if (!(await needDocker(t))) return;
    await localctl(['stop', '--ref', 'testing/echo@1', '--mode', 'real', '--grace', '1'], { env: base() });
    // A runtime that cannot boot: the entry passes NODE_OPTIONS through, and node refuses the option.
    const reg = tempDir();
    cpSync(registry, reg, { recursive: true });
    const file = join(reg, 'testing-echo-v1', 'registry.yaml');
    writeFileSync(file, `${readFileSync(file, 'utf8')}\nconfig: [NODE_OPTIONS]\n`);
    const snapshot = new Registry(reg).snapshot('testing/echo@1');
    const started = startContainer({ snapshot, mode: 'real', scope: 'started', env: { ECHO_TOKEN: 'x', NODE_OPTIONS: '--procctl-no-such-option' } });
    await assert.rejects(started, (err: ProcctlError) => {
      assert.equal(err.code, 'ERR_CONTAINER_EXIT', err.message);
      assert.deepEqual(err.details, { exit_code: 9, oom_killed: false });
      assert.match(err.message, /exited with code 9; last output: .*procctl-no-such-option/);
      return true;
    });
    await assert.rejects(engine().getContainer(startedContainerName('testing-echo-v1', 'real')).inspect(), (err: { statusCode?: number }) => err.statusCode === 404);
  });

  it('runs real mode with no started container in a one-off container, removed afterwards', async (t) => {
    if (!(await needDocker(t))) return;
    const before = await engine().listContainers({ all: true, filters: { label: ['procctl.scope=ephemeral'] } });
    const env = base({ ECHO_TOKEN: 'tok-12345678' });
    const result = await runCli(['run', '--ref', 'testing/echo@1', '--mode', 'real', '--json', '--inputs-json', '{"schema":"v1","params":{"outputs":[{"path":"r.txt","text":"real"}]}}'], { env, cwd });
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assert.deepEqual((envelopeOf(result) as SuccessEnvelope).meta.secrets_present, ['ECHO_TOKEN']);
    const afterRun = await engine().listContainers({ all: true, filters: { label: ['procctl.scope=ephemeral'] } });
    assert.equal(afterRun.length, before.length, 'the one-off container is gone');
  });

  it('cancels a one-off real run on SIGINT and still removes its container', async (t) => {
    if (!(await needDocker(t))) return;
    const ephemeral = async () => (await engine().listContainers({ all: true, filters: { label: ['procctl.scope=ephemeral'] } })).length;
    const before = await ephemeral();
    const interrupt = signalWhen('echo real sigint-c');
    const result = await runCli(['run', '--ref', 'testing/echo@1', '--mode', 'real', '--json', '--execution-id', 'sigint-c', '--inputs-json', '{"schema":"v1","params":{"sleep_ms":900}}'], { env: base({ ECHO_TOKEN: 'tok-12345678' }), cwd, onStderr: interrupt.onStderr });
    assert.ok(interrupt.sent, 'the run started in the container');
    assert.equal(errorCode(result), 'ERR_CANCELLED');
    assert.equal(result.code, 8);
    assert.equal(await ephemeral(), before, 'the one-off container is gone');
  });

  it('a one-off real container ends itself and is removed after kill -9 of its CLI', async (t) => {
    if (!(await needDocker(t))) return;
    const ephemeral = async () => (await engine().listContainers({ all: true, filters: { label: ['procctl.scope=ephemeral'] } })).length;
    const before = await ephemeral();
    let killed = false;
    const result = await runCli(['run', '--ref', 'testing/echo@1', '--mode', 'real', '--json', '--execution-id', 'kill9-c', '--inputs-json', '{"schema":"v1","params":{"sleep_ms":60000,"ignore_abort":true}}'], {
      env: base({ ECHO_TOKEN: 'tok-12345678' }),
      cwd,
      onStderr: (text, child) => {
        if (!killed && text.includes('echo real kill9-c')) {
          killed = true;
          child.kill('SIGKILL');
        }
      },
    });
    assert.ok(killed, 'the run started in the container');
    assert.equal(result.code, null, 'the CLI died by SIGKILL, cleaning nothing up');
    // The runtime exits EPHEMERAL_IDLE_EXIT_MS after its last connection; the engine removes it.
    let left = await ephemeral();
    for (let waited = 0; left > before && waited < 40_000; waited += 500) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      left = await ephemeral();
    }
    assert.equal(left, before, 'the orphaned one-off container is gone');
  });

  it('runs warm from the remembered endpoint, and falls back to the engine when the entry is stale, never to the wrong container', async (t) => {
    if (!(await needDocker(t))) return;
    const cache = tempDir('procctl-cache-');
    const env = base({ PROCCTL_CACHE_DIR: cache });
    const echoRun = (id: string, ...extra: string[]) => localctl(['run', '--ref', 'testing/echo@1', '--json', '--execution-id', id, ...extra, '--inputs-json', '{"schema":"v1","params":{"outputs":[{"path":"a.txt","text":"a"}]}}'], { env, cwd });
    const name = startedContainerName('testing-echo-v1', 'mock');
    const entries = join(cache, 'started');
    const entryFile = () => join(entries, readdirSync(entries)[0] as string);
    const engineToken = async () => ((await engine().getContainer(name).inspect()).Config.Env ?? []).find((e) => e.startsWith('PROCCTL_RUNTIME_TOKEN='))?.split('=')[1];
    await localctl(['stop', '--ref', 'testing/echo@1', '--grace', '0'], { env });
    assert.equal((await localctl(['start', '--ref', 'testing/echo@1'], { env })).code, 0);
    assert.equal(statSync(entryFile()).mode & 0o777, 0o600, 'start remembers the container, for this user only');

    const warm = await echoRun('warm-1');
    assert.equal(envelopeOf(warm).status, 'success', warm.stderr);
    // The same run through the engine (no entry) gives the same bytes; --replace, because the
    // same id with the same inputs would otherwise replay the recorded envelope without a run.
    rmSync(entries, { recursive: true });
    const cold = await echoRun('warm-1', '--replace');
    assert.equal(cold.stdout, warm.stdout);
    assert.equal(JSON.parse(readFileSync(entryFile(), 'utf8')).token, await engineToken(), 'the engine path remembers it again');

    // A stale entry: the same address now answers with another token (a restarted container).
    const entry = JSON.parse(readFileSync(entryFile(), 'utf8')) as Record<string, string>;
    writeFileSync(entryFile(), JSON.stringify({ ...entry, token: 'not-the-token' }));
    const afterStale = await echoRun('warm-2');
    assert.equal(envelopeOf(afterStale).status, 'success', afterStale.stdout);
    assert.equal(JSON.parse(readFileSync(entryFile(), 'utf8')).token, await engineToken(), 'the entry is rewritten from the engine');

    // An entry claiming another digest is never used; the engine says what runs.
    writeFileSync(entryFile(), JSON.stringify({ ...entry, digest: `sha256:${'0'.repeat(64)}` }));
    assert.equal(envelopeOf(await echoRun('warm-3')).status, 'success');

    // The container is removed behind localctl's back: the entry's endpoint no longer answers.
    writeFileSync(entryFile(), JSON.stringify(entry));
    await engine().getContainer(name).remove({ force: true });
    const gone = await echoRun('warm-4');
    assert.equal(errorCode(gone), 'ERR_CONTAINER_NOT_RUNNING', gone.stdout);
    assert.deepEqual(readdirSync(entries), [], 'a dead entry is forgotten');
  });

  it('follows logs until the container stops, then stop leaves nothing behind', async (t) => {
    if (!(await needDocker(t))) return;
    assert.equal((await localctl(['start', '--ref', 'testing/echo@1'], { env: base() })).code, 0);
    const following = localctl(['logs', '--ref', 'testing/echo@1', '--follow'], { env: base() });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stop = await localctl(['stop', '--ref', 'testing/echo@1'], { env: base() });
    assert.equal(stop.code, 0);
    assert.match(stop.stderr, /stopped procctl-testing-echo-v1-mock/);
    const logs = await following;
    assert.equal(logs.code, 0, 'logs --follow ends when the container stops');
    const status = await localctl(['status', '--json'], { env: base() });
    assert.ok(!(JSON.parse(status.stdout) as { name: string }[]).some((r) => r.name === 'procctl-testing-echo-v1-mock'));
  });
});
