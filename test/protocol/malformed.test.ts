import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { contentId, type SuccessEnvelope } from '../../src/index.js';
import { tempDir } from '../helpers/cli.js';
import { beats, invocation, invokeFrame, rawClient, startTestRuntime, until, type Closed, type RawClient, type TestRuntime } from '../helpers/runtime.js';

const echo = (params: Record<string, unknown> = {}) => invocation('testing/echo@1', params);

describe('malformed frames close only their own connection', () => {
  let rt: TestRuntime;
  let release: string;
  let bystander: Promise<SuccessEnvelope>;
  before(async () => {
    rt = await startTestRuntime();
    // A run on another connection that lives through every bad frame below.
    release = join(tempDir(), 'release');
    bystander = rt.client.invoke(invocation('testing/wait@1', { wait_for_file: release, outputs: [{ path: 'ok.txt', text: 'still served' }] })) as Promise<SuccessEnvelope>;
    await until(() => rt.server.stats().running === 1, 'the bystander run');
  });
  after(async () => {
    writeFileSync(release, '');
    const envelope = await bystander;
    assert.equal(envelope.status, 'success', 'the runtime kept serving the other connection');
    assert.equal(envelope.outputs[0]?.cid, contentId('still served'));
    await rt.stop();
  });

  async function closedBy(send: (c: RawClient) => void): Promise<Closed> {
    const before = rt.server.stats().protocolCloses;
    const client = await rawClient(rt.url);
    send(client);
    const closed = await client.closed;
    assert.equal(rt.server.stats().protocolCloses, before + 1);
    return closed;
  }

  it('not JSON: 4000', async () => {
    assert.deepEqual(await closedBy((c) => c.ws.send('hello')), { code: 4000, reason: `frame is not JSON: Unexpected token 'h', "hello" is not valid JSON` });
    assert.deepEqual(await closedBy((c) => c.ws.send('[1,2]')), { code: 4000, reason: 'frame is JSON but not an object' });
  });

  it('unknown kind: 4001; no kind: 4004', async () => {
    assert.deepEqual(await closedBy((c) => c.ws.send('{"kind":"dance"}')), { code: 4001, reason: 'unknown frame kind "dance"; expected one of invoke, cancel' });
    assert.deepEqual(await closedBy((c) => c.ws.send('{"execution_id":"x"}')), { code: 4004, reason: 'frame has no string "kind"' });
  });

  it('an invoke with a field missing or mistyped: 4004, naming the field', async () => {
    const frame = invokeFrame(echo());
    delete frame['write_prefix'];
    assert.deepEqual(await closedBy((c) => c.ws.send(JSON.stringify(frame))), { code: 4004, reason: 'invoke frame: / is missing required property "write_prefix"' });
    assert.deepEqual(await closedBy((c) => c.ws.send(JSON.stringify({ ...invokeFrame(echo()), attachments: [{ cid: 'md5:x', size_bytes: 1 }] }))), { code: 4004, reason: 'invoke frame: /attachments/0/cid must match pattern "^sha256:[0-9a-f]{64}$"' });
  });

  it('invoke twice: 4002, and the first run stops', async () => {
    const file = join(tempDir(), 'beats');
    const closed = await closedBy((c) => {
      c.ws.send(JSON.stringify(invokeFrame(invocation('testing/wait@1', { heartbeat_file: file }, { executionId: 'first' }))));
      void until(() => beats(file).length > 0, 'the first beat').then(() => c.ws.send(JSON.stringify(invokeFrame(echo()))));
    });
    assert.deepEqual(closed, { code: 4002, reason: 'invoke while execution first is running; one run per connection at a time' });
    await until(() => beats(file).at(-1) === 'stopped ERR_CANCELLED', 'the first run to stop');
  });

  it('an invoke that names a registry entry this connection never carried: 4004', async () => {
    const args = echo();
    const { entry: _entry, ...reference } = args.registrySnapshot;
    assert.deepEqual(await closedBy((c) => c.ws.send(JSON.stringify(invokeFrame(args, { registry_snapshot: reference })))), { code: 4004, reason: `registry_snapshot has no entry, and entry_cid ${args.registrySnapshot.entry_cid.slice(0, 19)}… was not sent on this connection` });
  });

  it('binary where text is due: 4003', async () => {
    assert.deepEqual(await closedBy((c) => c.ws.send(Buffer.from([1, 2, 3]))), { code: 4003, reason: 'binary frame where a text frame is due' });
  });

  it('text while attachment bytes are due: 4002; more bytes than declared: 4004; a duplicate attachment: 4004', async () => {
    const bytes = Buffer.from('twelve bytes');
    const decl = { cid: contentId(bytes), size_bytes: bytes.byteLength };
    const frame = JSON.stringify(invokeFrame(echo(), { attachments: [decl] }));
    assert.deepEqual(
      await closedBy((c) => {
        c.ws.send(frame);
        c.ws.send(bytes.subarray(0, 5));
        c.ws.send('{"kind":"cancel"}');
      }),
      { code: 4002, reason: 'text frame while 7 attachment byte(s) are still due' },
    );
    assert.deepEqual(
      await closedBy((c) => {
        c.ws.send(frame);
        c.ws.send(Buffer.concat([bytes, bytes]));
      }),
      { code: 4004, reason: `attachment 0 (${decl.cid.slice(0, 19)}…) got more than its 12 bytes` },
    );
    assert.deepEqual(await closedBy((c) => c.ws.send(JSON.stringify(invokeFrame(echo(), { attachments: [decl, decl] })))), { code: 4004, reason: `invoke frame declares attachment ${decl.cid} twice` });
  });

  it('oversize: a frame over 16 MiB, or a chunk over 1 MiB: 1009', async () => {
    assert.deepEqual(await closedBy((c) => c.ws.send(`{"kind":"cancel","pad":"${'x'.repeat(16 * 1024 * 1024)}"}`)), { code: 1009, reason: 'frame larger than 16777216 bytes' });
    const chunk = Buffer.alloc(1024 * 1024 + 1);
    const frame = JSON.stringify(invokeFrame(echo(), { attachments: [{ cid: contentId(chunk), size_bytes: chunk.byteLength }] }));
    assert.deepEqual(
      await closedBy((c) => {
        c.ws.send(frame);
        c.ws.send(chunk);
      }),
      { code: 1009, reason: 'binary frame of 1048577 bytes; chunks are at most 1048576' },
    );
  });

  it('text that is not UTF-8: 1007', async () => {
    // `ws` sends a Buffer as a text frame when told to, without checking it.
    assert.deepEqual(await closedBy((c) => c.ws.send(Buffer.from([0x7b, 0xff, 0x7d]), { binary: false })), { code: 1007, reason: 'text frame is not valid UTF-8' });
  });
});
