import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { canonicalJson, contentId, InProcessAdapter, MemoryArtifactStore, runtimeHealth, type ErrorEnvelope, type ProcessorEvent, type SuccessEnvelope } from '../../src/index.js';
import { tempDir } from '../helpers/cli.js';
import { beats, invocation, rawClient, invokeFrame, startTestRuntime, testRegistry, until, type TestRuntime } from '../helpers/runtime.js';

const echo = (params: Record<string, unknown>, executionId?: string) => invocation('testing/echo@1', params, executionId === undefined ? {} : { executionId });
const wait = (params: Record<string, unknown>, executionId?: string) => invocation('testing/wait@1', params, executionId === undefined ? {} : { executionId });

describe('invokes over the protocol', () => {
  let rt: TestRuntime;
  before(async () => {
    rt = await startTestRuntime();
  });
  after(() => rt.stop());

  it('relays events in order, stores outputs with the index last, and returns the in-process envelope', async () => {
    const events: ProcessorEvent[] = [];
    const args = echo({ progress: true, tokens: 3, outputs: [{ path: 'b.txt', text: 'bee' }, { path: 'a/x.json', text: '{}' }] }, 'events-1');
    const envelope = (await rt.client.invoke(args, { onEvent: (e) => events.push(e) })) as SuccessEnvelope;
    assert.equal(envelope.status, 'success');
    assert.deepEqual(events.slice(0, 2), [
      { kind: 'log', level: 'info', message: 'echo mock events-1' },
      { kind: 'progress', fraction: 0.5, message: 'halfway' },
    ]);
    assert.equal(events.slice(2).map((e) => (e.kind === 'token' ? e.text : `<${e.kind}>`)).join(''), 't0 t1 t2 ', 'tokens arrive whole and in order');
    assert.deepEqual(rt.store.keys().filter((k) => k.startsWith('executions/events-1/')), ['executions/events-1/outputs.json', 'executions/events-1/outputs/a/x.json', 'executions/events-1/outputs/b.txt']);
    assert.equal((await rt.store.get('executions/events-1/outputs/b.txt')).toString(), 'bee');
    const local = await new InProcessAdapter({ store: new MemoryArtifactStore(), registryDir: testRegistry(), env: {} }).invoke({ ...args, adapterOpts: {} });
    assert.equal(canonicalJson(envelope), canonicalJson(local));
  });

  it('sends attachment bytes over the socket; the runtime checks them against their content id', async () => {
    const store = rt.store;
    const good = Buffer.from('attached bytes\n');
    await store.put(`inputs/${contentId(good).replace(':', '/')}`, good, 'text/plain');
    const ref = { $artifact: `inputs/${contentId(good).replace(':', '/')}`, cid: contentId(good), mime: 'text/plain', size_bytes: good.byteLength };
    const ok = (await rt.client.invoke(echo({ attachments: [ref, ref] }, 'attach-1'))) as SuccessEnvelope;
    assert.equal(ok.status, 'success', JSON.stringify(ok));
    assert.deepEqual((await store.get('executions/attach-1/outputs/attachments/1.bin')).toString(), 'attached bytes\n');
    // A damaged store: the bytes under the key are not the ones the reference names.
    const damaged = { ...ref, $artifact: 'inputs/damaged', cid: contentId('something else') };
    await store.put('inputs/damaged', good, 'text/plain');
    const args = echo({ attachments: [damaged] }, 'attach-2');
    const bad = (await rt.client.invoke(args)) as ErrorEnvelope;
    assert.equal(bad.error.code, 'ERR_ATTACHMENT');
    assert.match(bad.error.message, /artifact inputs\/damaged does not match its content id sha256:/);
    const local = await new InProcessAdapter({ store, registryDir: testRegistry(), env: {} }).invoke({ ...args, adapterOpts: {} });
    assert.equal(canonicalJson(bad), canonicalJson(local), 'the same error, byte for byte, as in-process');
    const missing = (await rt.client.invoke(echo({ attachments: [{ ...ref, $artifact: 'inputs/nowhere', cid: contentId('nowhere') }] }))) as ErrorEnvelope;
    assert.equal(missing.error.code, 'ERR_ATTACHMENT');
    assert.match(missing.error.message, /was not sent with the invoke/);
  });

  it('runs 200 concurrent invokes within the concurrency limit, none lost or crossed', async () => {
    const n = 200;
    const texts = Array.from({ length: n }, (_, i) => `payload ${i} ${'#'.repeat(i)}`);
    const envelopes = await Promise.all(texts.map((text, i) => rt.client.invoke(echo({ sleep_ms: i % 3, outputs: [{ path: 'out.txt', text }] }, `many-${i}`))));
    envelopes.forEach((envelope, i) => {
      assert.equal(envelope.status, 'success', JSON.stringify(envelope));
      assert.equal(envelope.execution_id, `many-${i}`);
      const [output] = (envelope as SuccessEnvelope).outputs;
      assert.equal(output?.path, `executions/many-${i}/outputs/out.txt`);
      assert.equal(output?.cid, contentId(texts[i] as string), `execution many-${i} got its own bytes`);
    });
    for (let i = 0; i < n; i++) assert.equal((await rt.store.get(`executions/many-${i}/outputs/out.txt`)).toString(), texts[i]);
    const stats = rt.server.stats();
    assert.ok(stats.peakRunning > 1 && stats.peakRunning <= 4, `runs overlapped, never more than testing/echo@1's concurrency of 4 (peak ${stats.peakRunning})`);
    assert.equal(stats.running, 0);
    assert.equal(stats.queued, 0);
  });

  it('stops a run that outlives timeout_s with ERR_TIMEOUT, and its work really stops', async () => {
    const file = join(tempDir(), 'beats');
    const args = echo({ heartbeat_file: file }, 'late-1');
    const envelope = (await rt.client.invoke(args)) as ErrorEnvelope;
    assert.equal(envelope.error.code, 'ERR_TIMEOUT');
    assert.equal(envelope.error.message, 'testing/echo@1 ran longer than its limit of 1s');
    assert.equal(envelope.error.retryable, true);
    await until(() => beats(file).at(-1) === 'stopped ERR_TIMEOUT', 'the handler to see its abort');
    const count = beats(file).length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(beats(file).length, count, 'no beat after the stop');
    assert.equal(rt.server.stats().running, 0);
    // The handler ended on its abort, so its worker went back to the pool (its last message may
    // still be on the way when the beat file says it stopped).
    await until(() => rt.server.stats().abandonedHandlers === 0, 'the worker to be free again');
  });

  it('honours a shorter timeout from the caller', async () => {
    const envelope = (await rt.client.invoke(wait({ sleep_ms: 60_000 }), { timeoutS: 0.2 })) as ErrorEnvelope;
    assert.equal(envelope.error.code, 'ERR_TIMEOUT');
    assert.match(envelope.error.message, /limit of 0\.2s/);
  });

  it('cancels a run: ERR_CANCELLED, the work stops, and the envelope is the in-process one', async () => {
    const file = join(tempDir(), 'beats');
    const args = wait({ heartbeat_file: file }, 'cancel-1');
    const controller = new AbortController();
    const pending = rt.client.invoke(args, { signal: controller.signal });
    await until(() => beats(file).length > 0, 'the first beat');
    controller.abort();
    const envelope = (await pending) as ErrorEnvelope;
    assert.equal(envelope.error.code, 'ERR_CANCELLED');
    assert.equal(envelope.error.message, 'execution cancel-1 was cancelled');
    await until(() => beats(file).at(-1) === 'stopped ERR_CANCELLED', 'the handler to stop');
    const local = new AbortController();
    local.abort();
    const inProcess = await new InProcessAdapter({ store: new MemoryArtifactStore(), registryDir: testRegistry(), env: {} }).invoke({ ...args, adapterOpts: { signal: local.signal } });
    assert.equal(canonicalJson(envelope), canonicalJson(inProcess));
  });

  it('cancels a queued run without disturbing the runs ahead of it, and never starts its handler', async () => {
    const dir = tempDir();
    const release = join(dir, 'release');
    const heartbeat = join(dir, 'queued-heartbeat');
    const ahead = [rt.client.invoke(wait({ wait_for_file: release })), rt.client.invoke(wait({ wait_for_file: release }))];
    await until(() => rt.server.stats().running === 2, 'two runs (the concurrency of testing/wait@1)');
    const controller = new AbortController();
    const queued = rt.client.invoke(wait({ heartbeat_file: heartbeat }, 'queued-1'), { signal: controller.signal });
    await until(() => rt.server.stats().queued === 1, 'the third run to queue');
    controller.abort();
    assert.equal(((await queued) as ErrorEnvelope).error.code, 'ERR_CANCELLED');
    assert.equal(rt.server.stats().running, 2);
    writeFileSync(release, '');
    for (const envelope of await Promise.all(ahead)) assert.equal(envelope.status, 'success');
    // A started handler writes its first line at once, even when its signal is already aborted.
    assert.equal(existsSync(heartbeat), false, 'the cancelled run\'s handler never started');
  });

  it('stops the run of a client that vanishes mid-run', async () => {
    const file = join(tempDir(), 'beats');
    const before = rt.server.stats().disconnectedRuns;
    const raw = await rawClient(rt.url);
    raw.ws.send(JSON.stringify(invokeFrame(wait({ heartbeat_file: file }))));
    await until(() => beats(file).length > 0, 'the first beat');
    raw.ws.terminate(); // no close frame: the TCP connection just goes
    await until(() => beats(file).at(-1) === 'stopped ERR_CANCELLED', 'the run to stop');
    await until(() => rt.server.stats().running === 0, 'the slot to free');
    assert.equal(rt.server.stats().disconnectedRuns, before + 1);
  });

  it('carries one run after another on the same connection, the registry entry sent in full only once', async () => {
    const raw = await rawClient(rt.url);
    for (const id of ['seq-1', 'seq-2', 'seq-3']) {
      const count = raw.frames.length;
      const args = echo({ outputs: [{ path: 'a', text: id }] }, id);
      const { entry: _entry, ...reference } = args.registrySnapshot;
      raw.ws.send(JSON.stringify(invokeFrame(args, id === 'seq-1' ? {} : { registry_snapshot: reference })));
      await until(() => raw.frames.slice(count).some((f) => !Buffer.isBuffer(f) && f['kind'] === 'result'), `the result of ${id}`);
      const mine = raw.frames.slice(count).filter((f) => !Buffer.isBuffer(f)) as Record<string, unknown>[];
      assert.deepEqual(mine.map((f) => f['kind']), ['ack', 'log', 'output', 'result']);
      assert.deepEqual(mine[0], { kind: 'ack', execution_id: id, queued: false });
      assert.equal(raw.frames.slice(count).find((f) => Buffer.isBuffer(f))?.toString(), id);
    }
    raw.ws.close();
  });
});

describe('runtime keepalive and handlers that ignore their abort', () => {
  it('ends a connection whose client stops answering pings, and stops its run', async () => {
    const rt = await startTestRuntime({ pingIntervalMs: 50 });
    const file = join(tempDir(), 'beats');
    const raw = await rawClient(rt.url);
    raw.ws.send(JSON.stringify(invokeFrame(wait({ heartbeat_file: file }))));
    await until(() => beats(file).length > 0, 'the first beat');
    raw.ws.pause(); // reads nothing more, so answers no ping
    await until(() => beats(file).at(-1) === 'stopped ERR_CANCELLED', 'the keepalive to end the run');
    assert.equal(rt.server.stats().connections, 0);
    raw.ws.terminate();
    await rt.stop();
  });

  it('terminates a handler that ignores its abort once the stuck grace is over, without holding its slot', async () => {
    const rt = await startTestRuntime({ stuckGraceMs: 200 });
    const release = join(tempDir(), 'release');
    const envelope = (await rt.client.invoke(echo({ wait_for_file: release, ignore_abort: true }, 'stubborn-1'))) as ErrorEnvelope;
    assert.equal(envelope.error.code, 'ERR_TIMEOUT');
    assert.equal(rt.server.stats().abandonedHandlers, 1, 'still running, within its grace');
    assert.equal((await rt.client.invoke(echo({ outputs: [{ path: 'x', text: 'y' }] }))).status, 'success', 'the slot was released');
    // Nobody writes the release file: the grace ends and the worker thread with it.
    await until(() => rt.server.stats().abandonedHandlers === 0, 'the stubborn handler to be terminated');
    assert.equal((await runtimeHealth(rt.url)).ok, true);
    assert.equal((await rt.client.invoke(echo({ outputs: [{ path: 'x', text: 'y' }] }, 'after-1'))).status, 'success', 'a new worker serves the next run');
    await rt.stop();
  });
});

describe('runtime concurrency policy: a bounded queue, then ERR_RUNTIME_BUSY', () => {
  it('turns away invokes beyond concurrency + queue with a retryable ERR_RUNTIME_BUSY', async () => {
    const rt = await startTestRuntime({ queueLimit: 1 });
    const release = join(tempDir(), 'release');
    const held = [0, 1, 2].map((i) => rt.client.invoke(wait({ wait_for_file: release }, `held-${i}`)));
    await until(() => rt.server.stats().running === 2 && rt.server.stats().queued === 1, 'two running and one queued');
    const busy = (await rt.client.invoke(wait({}, 'busy-1'))) as ErrorEnvelope;
    assert.equal(busy.error.code, 'ERR_RUNTIME_BUSY');
    assert.equal(busy.error.retryable, true);
    assert.match(busy.error.message, /testing\/wait@1 is running 2 of 2 allowed at once and 1 more are queued \(the queue holds 1\)/);
    writeFileSync(release, '');
    for (const envelope of await Promise.all(held)) assert.equal(envelope.status, 'success');
    await rt.stop();
  });
});
