/**
 * Handler threads are shared and capped: a processor's runs share at most
 * `PROCCTL_RUNTIME_HANDLER_THREADS` threads (each hosting several runs), sequential runs reuse one
 * warm thread, and when a stuck run's thread must be terminated, the other runs it hosted end as
 * retryable ERR_CANCELLED naming why, and the next run gets a fresh thread. Attachment bytes are
 * shared with the thread too (not copied), and a handler that changes them is caught. Through a
 * real runtime server and the real client over loopback.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contentId, MemoryArtifactStore, Registry, RuntimeClient, RuntimeServer, type Envelope, type InvocationArgs, type RuntimeServerOptions } from '../../src/index.js';
import { runtimeOptionsFromEnv } from '../../src/runtime/config.js';
import { handlerThreadsFor } from '../../src/runtime/handler-threads.js';
import { TOKEN } from '../helpers/runtime.js';
import { LIMITS_REGISTRY } from './registry.js';

const snapshot = new Registry(LIMITS_REGISTRY).snapshot('testing/spin@1');
let seq = 0;
const spin = (params: Record<string, unknown>, executionId = `shared-${++seq}`): InvocationArgs => ({
  processorRef: 'testing/spin@1',
  inputsJson: { schema: 'v1', mode: 'mock', params },
  writePrefix: 'executions/{execution_id}/',
  executionId,
  registrySnapshot: snapshot,
  secretsPresent: [],
});

async function withRuntime(options: Partial<RuntimeServerOptions>, body: (client: RuntimeClient, store: MemoryArtifactStore) => Promise<void>): Promise<void> {
  const server = await RuntimeServer.start({ token: TOKEN, registryDir: LIMITS_REGISTRY, log: () => undefined, env: {}, ...options });
  const store = new MemoryArtifactStore();
  const client = new RuntimeClient({ url: server.url, token: TOKEN, store });
  try {
    await body(client, store);
  } finally {
    client.close();
    await server.shutdown(0);
  }
}

/** The handler thread that ran a successful `thread: true` run, as the handler wrote it. */
async function threadOf(store: MemoryArtifactStore, envelope: Envelope): Promise<string> {
  assert.equal(envelope.status, 'success', JSON.stringify(envelope));
  const output = envelope.status === 'success' ? envelope.outputs.find((o) => o.path.endsWith('/thread.txt')) : undefined;
  assert.ok(output, 'the run wrote thread.txt');
  return Buffer.from(await store.get(output.path)).toString('utf8');
}

describe('shared handler threads', { timeout: 60_000 }, () => {
  it('hosts concurrent runs of one processor on one thread when the cap is 1', async () => {
    await withRuntime({ handlerThreads: 1 }, async (client, store) => {
      const both = await Promise.all([client.invoke(spin({ sleep_ms: 300, thread: true })), client.invoke(spin({ sleep_ms: 300, thread: true }))]);
      const [a, b] = await Promise.all(both.map((e) => threadOf(store, e)));
      assert.equal(a, b, 'both runs ran on the one thread');
    });
  });

  it('spreads concurrent runs over threads up to the cap, and reuses one warm thread for runs in turn', async () => {
    await withRuntime({ handlerThreads: 2 }, async (client, store) => {
      const both = await Promise.all([client.invoke(spin({ sleep_ms: 300, thread: true })), client.invoke(spin({ sleep_ms: 300, thread: true }))]);
      const [a, b] = await Promise.all(both.map((e) => threadOf(store, e)));
      assert.notEqual(a, b, 'two runs in flight, two threads');
      const first = await threadOf(store, await client.invoke(spin({ thread: true })));
      const second = await threadOf(store, await client.invoke(spin({ thread: true })));
      assert.equal(first, second, 'runs one after another share a warm thread');
      assert.ok([a, b].includes(first), 'no third thread was started');
    });
  });

  it('cancels, retryably and saying why, the runs that shared a thread the runtime had to end; the next run gets a fresh thread', async () => {
    await withRuntime({ handlerThreads: 1, stuckGraceMs: 200 }, async (client, store) => {
      const before = await threadOf(store, await client.invoke(spin({ thread: true })));
      const [stuck, bystander] = await Promise.all([
        client.invoke(spin({ forever: true }, 'shared-stuck'), { timeoutS: 0.2 }),
        client.invoke(spin({ sleep_ms: 5_000, output: 'never' }, 'shared-bystander')),
      ]);
      assert.equal(stuck.status === 'error' && stuck.error.code, 'ERR_TIMEOUT', JSON.stringify(stuck));
      assert.equal(bystander.status, 'error', JSON.stringify(bystander));
      if (bystander.status !== 'error') return;
      assert.equal(bystander.error.code, 'ERR_CANCELLED');
      assert.equal(bystander.error.retryable, true);
      assert.equal(bystander.error.message, 'execution shared-bystander was cancelled: it shared a handler thread with execution shared-stuck, which was still running 200 ms after its timeout, so the thread was ended; retry it');
      const after = await threadOf(store, await client.invoke(spin({ thread: true })));
      assert.notEqual(after, before, 'a new thread serves the next run');
    });
  });

  it('places no new run beside a stopped handler that has yet to end: the next runs get another thread and succeed', async () => {
    await withRuntime({ handlerThreads: 1, stuckGraceMs: 3_000 }, async (client, store) => {
      const stuck = await client.invoke(spin({ forever: true }, 'shared-stuck-2'), { timeoutS: 0.2 });
      assert.equal(stuck.status === 'error' && stuck.error.code, 'ERR_TIMEOUT', JSON.stringify(stuck));
      // Within the stuck handler's grace its thread still spins: a run placed there would wait for
      // it and then be cancelled with it, and threadOf would see that envelope, not a success.
      const threads = new Set<string>();
      for (let i = 0; i < 3; i++) threads.add(await threadOf(store, await client.invoke(spin({ thread: true }))));
      assert.equal(threads.size, 1, 'one new thread served them all');
    });
  });

  it('shares received attachment bytes with the handler thread, and names a handler that changed them', async () => {
    await withRuntime({}, async (client, store) => {
      const bytes = Buffer.alloc(3 * 1024 * 1024 + 5, 9);
      const cid = contentId(bytes);
      await store.put(`attachments/${cid.replace(':', '/')}`, bytes, 'application/octet-stream');
      const ref = { $artifact: `attachments/${cid.replace(':', '/')}`, cid, mime: 'application/octet-stream', size_bytes: bytes.byteLength };
      const echoed = await client.invoke(spin({ attachments: [ref] }));
      assert.equal(echoed.status, 'success', JSON.stringify(echoed));
      const output = echoed.status === 'success' ? echoed.outputs.find((o) => o.path.endsWith('/attachments/0.bin')) : undefined;
      assert.ok(output && Buffer.from(await store.get(output.path)).equals(bytes), 'the handler read every byte');
      const changed = await client.invoke(spin({ attachments: [ref], change_then_reread: true }));
      assert.equal(changed.status, 'error', JSON.stringify(changed));
      if (changed.status !== 'error') return;
      assert.equal(changed.error.code, 'ERR_ATTACHMENT');
      assert.equal(changed.error.message, `artifact ${ref.$artifact} changed after the handler read it: attachment bytes are read-only (copy them to change them)`);
    });
  });

  it('caps the handler threads of a CPU-limited placement at its CPUs, rounded up', () => {
    assert.deepEqual(handlerThreadsFor(undefined), {});
    assert.deepEqual(handlerThreadsFor(0.25), { PROCCTL_RUNTIME_HANDLER_THREADS: '1' });
    assert.deepEqual(handlerThreadsFor(1), { PROCCTL_RUNTIME_HANDLER_THREADS: '1' });
    assert.deepEqual(handlerThreadsFor(2.5), { PROCCTL_RUNTIME_HANDLER_THREADS: '3' });
    assert.equal(runtimeOptionsFromEnv({ PROCCTL_RUNTIME_TOKEN: 't', ...handlerThreadsFor(2.5) }).handlerThreads, 3, 'a setting the runtime reads');
  });

  it('refuses a bad PROCCTL_RUNTIME_HANDLER_THREADS by name', () => {
    assert.throws(() => runtimeOptionsFromEnv({ PROCCTL_RUNTIME_TOKEN: 't', PROCCTL_RUNTIME_HANDLER_THREADS: '0' }), (err: Error & { code?: string }) => err.code === 'ERR_USAGE' && /PROCCTL_RUNTIME_HANDLER_THREADS="0" is not a whole number from 1/.test(err.message));
    assert.equal(runtimeOptionsFromEnv({ PROCCTL_RUNTIME_TOKEN: 't', PROCCTL_RUNTIME_HANDLER_THREADS: '3' }).handlerThreads, 3);
  });
});
