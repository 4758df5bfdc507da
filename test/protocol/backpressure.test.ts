import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { contentId, MAX_CHUNK_BYTES, type SuccessEnvelope } from '../../src/index.js';
import { invocation, invokeFrame, rawClient, startTestRuntime, until, type TestRuntime } from '../helpers/runtime.js';

const MiB = 1024 * 1024;
const BUFFER_BYTES = 1 * MiB; // the runtime's default unread-bytes budget per connection
// What one connection may ever have queued: the budget, one chunk sent just under it, and the small frames around it.
const BOUND = BUFFER_BYTES + MAX_CHUNK_BYTES + 64 * 1024;

describe('back-pressure: a slow reader never makes the runtime buffer without bound', () => {
  let rt: TestRuntime;
  before(async () => {
    rt = await startTestRuntime({ bufferBytes: BUFFER_BYTES });
  });
  after(() => rt.stop());

  it('holds 64 MiB of output at a bounded queue while the client does not read, then delivers every byte', async () => {
    const size = 64 * MiB;
    const args = invocation('testing/echo@1', { outputs: [{ path: 'big.bin', text: 'abcdefgh', repeat: size / 8 }] });
    const client = await rawClient(rt.url);
    client.ws.send(JSON.stringify(invokeFrame(args)));
    client.ws.pause(); // stop reading: the kernel buffers fill, then the runtime's queue
    await until(() => rt.server.stats().waitingForClient === 1, 'the runtime to wait for the slow reader');
    const stalled = rt.server.stats();
    assert.ok(stalled.maxBufferedBytes <= BOUND, `queued ${stalled.maxBufferedBytes} bytes for the slow client; the bound is ${BOUND}`);
    assert.equal(client.frames.filter((f) => !Buffer.isBuffer(f) && f['kind'] === 'result').length, 0, 'no result while the client reads nothing');
    client.ws.resume();
    const result = await client.next('result');
    const envelope = result['envelope'] as SuccessEnvelope;
    assert.equal(envelope.status, 'success');
    const bytes = Buffer.concat(client.frames.filter((f): f is Buffer => Buffer.isBuffer(f)));
    assert.equal(bytes.byteLength, size);
    assert.equal(contentId(bytes), envelope.outputs[0]?.cid, 'every byte arrived, in order');
    assert.ok(client.frames.filter((f) => Buffer.isBuffer(f)).every((f) => (f as Buffer).byteLength <= MAX_CHUNK_BYTES), 'in chunks of at most 1 MiB');
    assert.ok(rt.server.stats().maxBufferedBytes <= BOUND, `at most ${BOUND} bytes queued at any time (saw ${rt.server.stats().maxBufferedBytes})`);
    client.ws.close();
  });

  it('drops events past the budget rather than queue them, says how many, and still finishes the run', async () => {
    const before = rt.server.stats().droppedEvents;
    // 20 MB of tokens in one burst: far more than a connection may queue.
    const args = invocation('testing/echo@1', { tokens: 20_000, token_size: 1000, outputs: [{ path: 'done.txt', text: 'done' }] });
    const client = await rawClient(rt.url);
    client.ws.pause();
    client.ws.send(JSON.stringify(invokeFrame(args)));
    // The handler finishes and its events are dropped while the client reads nothing; only the
    // small output may still wait for the reader (outputs are never dropped).
    await until(() => rt.server.stats().running === 0 && rt.server.stats().droppedEvents > before, 'the handler to finish with events dropped');
    assert.ok(rt.server.stats().maxBufferedBytes <= BOUND, `queued at most ${BOUND} bytes (saw ${rt.server.stats().maxBufferedBytes})`);
    client.ws.resume();
    const result = await client.next('result');
    assert.equal((result['envelope'] as SuccessEnvelope).status, 'success');
    const dropped = rt.server.stats().droppedEvents - before;
    // One warning each time the client caught up after drops (events reach the runtime in
    // several bursts from the handler's thread), and together they count every dropped event.
    const warnings = client.frames.filter((f) => !Buffer.isBuffer(f) && f['kind'] === 'log' && f['level'] === 'warn').map((f) => String((f as Record<string, unknown>)['message']));
    assert.ok(warnings.length > 0, 'a drop warning arrived');
    const counted = warnings.reduce((n, message) => n + Number(/^(\d+) event\(s\) dropped: the client read more slowly than the processor wrote$/.exec(message)?.[1] ?? Number.NaN), 0);
    assert.equal(counted, dropped);
    const tokenBytes = client.frames.filter((f) => !Buffer.isBuffer(f) && f['kind'] === 'token').reduce((n, f) => n + String((f as Record<string, unknown>)['text']).length, 0);
    assert.ok(tokenBytes > 0 && tokenBytes < 20_000 * 1000, `some tokens arrived (${tokenBytes} characters), not all`);
    client.ws.close();
  });

  it('drops nothing when the client keeps up', async () => {
    const before = rt.server.stats().droppedEvents;
    let text = '';
    const envelope = await rt.client.invoke(invocation('llm/litellm@1', { messages: [{ role: 'user', content: 'Hello' }] }), { onEvent: (e) => (text += e.kind === 'token' ? e.text : '') });
    assert.equal(envelope.status, 'success');
    assert.match(text, /^Mock reply to "Hello" \(1 message\(s\), model openai\/gpt-4o-mini, seed [0-9a-f]{8}\)\.$/);
    assert.equal(rt.server.stats().droppedEvents, before);
  });
});
