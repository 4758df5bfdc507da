import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MemoryArtifactStore, RUNTIME_BIN, RuntimeClient, runtimeHealth, startRuntimeProcess, type ErrorEnvelope, type RuntimeProcess, type SuccessEnvelope } from '../../src/index.js';
import { cleanEnv, runCli, tempDir } from '../helpers/cli.js';
import { beats, invocation, invokeFrame, rawClient, testRegistry, until } from '../helpers/runtime.js';

const start = (settings: Record<string, string> = {}) => startRuntimeProcess({ env: cleanEnv(), registryDir: testRegistry(), settings });
const clientOf = (runtime: RuntimeProcess) => new RuntimeClient({ url: runtime.url, token: runtime.token, store: new MemoryArtifactStore() });

describe('procctl-runtime, the process', () => {
  it('refuses to start without a token, saying which variable to set', async () => {
    const result = await runCli([], { bin: RUNTIME_BIN, env: cleanEnv() });
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^error ERR_USAGE: PROCCTL_RUNTIME_TOKEN is not set; the runtime refuses to serve without a bearer token/);
  });

  it('names a bad setting', async () => {
    const result = await runCli([], { bin: RUNTIME_BIN, env: cleanEnv({ PROCCTL_RUNTIME_TOKEN: 't', PROCCTL_RUNTIME_PORT: '99999' }) });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /error ERR_USAGE: PROCCTL_RUNTIME_PORT="99999" is not a whole number from 0 to 65535/);
    const logRuns = await runCli([], { bin: RUNTIME_BIN, env: cleanEnv({ PROCCTL_RUNTIME_TOKEN: 't', PROCCTL_RUNTIME_LOG_RUNS: 'yes' }) });
    assert.equal(logRuns.code, 2);
    assert.match(logRuns.stderr, /error ERR_USAGE: PROCCTL_RUNTIME_LOG_RUNS="yes" is not 1, 0, true or false/);
    const typo = await startRuntimeProcess({ env: cleanEnv(), settings: { PROCCTL_RUNTIME_MAX_QUEUE: '3', PROCCTL_RUNTIME_QUEUE: '3' } });
    await typo.stop();
    assert.match(typo.stderr(), /procctl-runtime: warning: PROCCTL_RUNTIME_MAX_QUEUE is not a setting of this runtime and is ignored/);
    assert.doesNotMatch(typo.stderr(), /PROCCTL_RUNTIME_QUEUE /, 'a known setting is not warned about');
    const help = await runCli(['--help'], { bin: RUNTIME_BIN, env: cleanEnv() });
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: procctl-runtime/);
  });

  it('prints where it listens, reports its image digest, and says when its port is taken', async () => {
    const digest = `sha256:${'cd'.repeat(32)}`;
    const runtime = await startRuntimeProcess({ env: cleanEnv({ PROCCTL_IMAGE_DIGEST: digest }) });
    assert.match(runtime.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await runtimeHealth(runtime.url);
    assert.deepEqual(health, { ok: true, digest, protocol: 'procctl.run.v1', platform: health.platform });
    const port = new URL(runtime.url).port;
    const taken = await runCli([], { bin: RUNTIME_BIN, env: cleanEnv({ PROCCTL_RUNTIME_TOKEN: 'tok', PROCCTL_RUNTIME_PORT: port }) });
    assert.equal(taken.code, 11);
    assert.equal(taken.stderr, `error ERR_RUNTIME_UNAVAILABLE: cannot listen on 127.0.0.1:${port}: EADDRINUSE\n`);
    assert.equal(await runtime.stop(), 0);
  });

  it('on SIGTERM lets a running run finish, refuses new work, then exits 0', async () => {
    const runtime = await start({ PROCCTL_RUNTIME_DRAIN_MS: '600000' });
    const release = join(tempDir(), 'release');
    const running = await rawClient(runtime.url, { token: runtime.token });
    running.ws.send(JSON.stringify(invokeFrame(invocation('testing/wait@1', { wait_for_file: release, outputs: [{ path: 'a.txt', text: 'finished' }] }))));
    await running.next('ack');
    const idle = await rawClient(runtime.url, { token: runtime.token });
    const exit = runtime.stop(60_000);
    await until(() => /shutting down: 1 run\(s\) in flight/.test(runtime.stderr()), 'the runtime to start draining');
    assert.deepEqual(await idle.closed, { code: 1001, reason: 'runtime shutting down' }, 'idle connections are told it is going away');
    await assert.rejects(rawClient(runtime.url, { token: runtime.token }), 'no new connections');
    writeFileSync(release, '');
    const envelope = (await running.next('result'))['envelope'] as SuccessEnvelope;
    assert.equal(envelope.status, 'success', JSON.stringify(envelope));
    assert.equal(Buffer.concat(running.frames.filter((f): f is Buffer => Buffer.isBuffer(f))).toString(), 'finished');
    assert.deepEqual(await running.closed, { code: 1001, reason: 'runtime shutting down' }, 'closed once its run is done');
    assert.equal(await exit, 0);
  });

  it('on SIGTERM past the drain time cancels what still runs, turns queued runs away, and exits 0', async () => {
    const runtime = await start({ PROCCTL_RUNTIME_DRAIN_MS: '0' });
    const client = clientOf(runtime);
    const files = [join(tempDir(), 'beats'), join(tempDir(), 'beats')];
    const running = files.map((file) => client.invoke(invocation('testing/wait@1', { heartbeat_file: file })));
    await until(() => files.every((f) => beats(f).length > 0), 'both runs (testing/wait@1 runs 2 at once)');
    const acked = await rawClient(runtime.url, { token: runtime.token });
    acked.ws.send(JSON.stringify(invokeFrame(invocation('testing/wait@1', {}, { executionId: 'queued-1' }))));
    assert.deepEqual(await acked.next('ack'), { kind: 'ack', execution_id: 'queued-1', queued: true });
    assert.equal(await runtime.stop(), 0);
    for (const envelope of (await Promise.all(running)) as ErrorEnvelope[]) {
      assert.equal(envelope.error.code, 'ERR_CANCELLED');
      assert.match(envelope.error.message, /^execution t-\w+ was cancelled: the processor runtime is shutting down$/);
    }
    for (const file of files) assert.equal(beats(file).at(-1), 'stopped ERR_CANCELLED', 'the work really stopped');
    const turnedAway = (await acked.next('result'))['envelope'] as ErrorEnvelope;
    assert.equal(turnedAway.error.code, 'ERR_RUNTIME_UNAVAILABLE');
    assert.equal(turnedAway.error.message, 'the processor runtime shut down before this queued run started; retry on another');
    assert.equal(turnedAway.error.retryable, true);
    assert.equal((await acked.closed).code, 1001);
  });
});
