import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import { contentId, failureFor, MemoryArtifactStore, ProcctlError, RuntimeClient, SUBPROTOCOL, type ErrorEnvelope } from '../../src/index.js';
import { invocation, TOKEN } from '../helpers/runtime.js';

type Behaviour = (ws: WebSocket, invoke: { execution_id: string; ref: string }) => void;

/** A stand-in runtime that speaks the handshake and then does whatever the test says. */
describe('the client holds the runtime to the protocol', () => {
  let server: WebSocketServer;
  let url: string;
  let behave: Behaviour;
  const closes: { code: number; reason: string }[] = [];
  const errorEnvelope = (invoke: { execution_id: string; ref: string }) => failureFor({ ref: invoke.ref, executionId: invoke.execution_id, mode: 'mock', secretsPresent: [] }, new ProcctlError('ERR_PROCESSOR_FAILED', 'fake failure'));

  before(async () => {
    server = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (offered) => (offered.has(SUBPROTOCOL) ? SUBPROTOCOL : false) });
    server.on('connection', (ws) => {
      ws.on('close', (code, reason) => closes.push({ code, reason: reason.toString() }));
      ws.on('message', (data, isBinary) => {
        if (isBinary) return;
        const frame = JSON.parse(String(data)) as { kind: string; execution_id: string; ref: string };
        if (frame.kind === 'invoke') behave(ws, frame);
      });
    });
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const ws of server.clients) ws.terminate(); // the paused one would never see its peer go
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const client = (options: { pingIntervalMs?: number } = {}) => new RuntimeClient({ url, token: TOKEN, store: new MemoryArtifactStore(), ...options });
  const lastClose = async () => {
    while (closes.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    return closes.splice(0).at(-1);
  };

  it('a result for another execution: ERR_PROTOCOL', async () => {
    behave = (ws, invoke) => ws.send(JSON.stringify({ kind: 'result', envelope: errorEnvelope({ ...invoke, execution_id: 'someone-else' }) }));
    await assert.rejects(client().invoke(invocation('testing/echo@1', {}, { executionId: 'mine' })), (e: ProcctlError) => e.code === 'ERR_PROTOCOL' && /is for testing\/echo@1 execution someone-else, not testing\/echo@1 execution mine/.test(e.message));
  });

  it('an ack for another execution: ERR_PROTOCOL, and the client closes with 4004', async () => {
    behave = (ws) => ws.send(JSON.stringify({ kind: 'ack', execution_id: 'other', queued: false }));
    await assert.rejects(client().invoke(invocation('testing/echo@1', {}, { executionId: 'mine' })), (e: ProcctlError) => e.code === 'ERR_PROTOCOL' && /ack for execution other, not mine/.test(e.message));
    assert.deepEqual(await lastClose(), { code: 4004, reason: 'ack for execution other, not mine' });
  });

  it('output bytes that do not match their content id: ERR_PROTOCOL', async () => {
    behave = (ws, invoke) => {
      ws.send(JSON.stringify({ kind: 'output', path: `executions/${invoke.execution_id}/outputs/a.txt`, cid: contentId('expected'), size_bytes: 8, mime: 'text/plain' }));
      ws.send(Buffer.from('tampered'));
    };
    await assert.rejects(client().invoke(invocation('testing/echo@1', {})), (e: ProcctlError) => e.code === 'ERR_PROTOCOL' && /bytes do not match its cid/.test(e.message));
    assert.equal((await lastClose())?.code, 4004);
  });

  it('a frame that is not JSON, or an envelope that is not one: ERR_PROTOCOL', async () => {
    behave = (ws) => ws.send('nonsense');
    await assert.rejects(client().invoke(invocation('testing/echo@1', {})), (e: ProcctlError) => e.code === 'ERR_PROTOCOL' && /frame is not JSON/.test(e.message));
    assert.equal((await lastClose())?.code, 4000);
    behave = (ws) => ws.send(JSON.stringify({ kind: 'result', envelope: { status: 'fine' } }));
    await assert.rejects(client().invoke(invocation('testing/echo@1', {})), (e: ProcctlError) => e.code === 'ERR_PROTOCOL' && /result envelope/.test(e.message));
  });

  it('a runtime that goes away or drops the connection mid-run: ERR_RUNTIME_UNAVAILABLE', async () => {
    behave = (ws, invoke) => {
      ws.send(JSON.stringify({ kind: 'ack', execution_id: invoke.execution_id, queued: false }));
      ws.close(1001, 'runtime shutting down');
    };
    await assert.rejects(client().invoke(invocation('testing/echo@1', {})), (e: ProcctlError) => e.code === 'ERR_RUNTIME_UNAVAILABLE' && /is shutting down \(1001 runtime shutting down\)/.test(e.message));
    behave = (ws, invoke) => {
      ws.send(JSON.stringify({ kind: 'ack', execution_id: invoke.execution_id, queued: false }));
      ws.terminate();
    };
    await assert.rejects(client().invoke(invocation('testing/echo@1', {}, { executionId: 'dropped' })), (e: ProcctlError) => e.code === 'ERR_RUNTIME_UNAVAILABLE' && /closed before the result of execution dropped \(1006\)/.test(e.message));
  });

  it('a runtime that stops answering pings mid-run: ERR_RUNTIME_UNAVAILABLE', async () => {
    behave = (ws, invoke) => {
      ws.send(JSON.stringify({ kind: 'ack', execution_id: invoke.execution_id, queued: false }));
      ws.pause(); // reads nothing more: pings go unanswered
    };
    await assert.rejects(client({ pingIntervalMs: 30 }).invoke(invocation('testing/echo@1', {})), (e: ProcctlError) => e.code === 'ERR_RUNTIME_UNAVAILABLE' && /stopped answering keepalive pings/.test(e.message));
  });

  it('reuses a connection, and retries once on a fresh one when the pooled one turns out dead', async () => {
    const c = client();
    let connections = 0;
    server.on('connection', () => connections++);
    behave = (ws, invoke) => ws.send(JSON.stringify({ kind: 'result', envelope: errorEnvelope(invoke) }));
    assert.equal(((await c.invoke(invocation('testing/echo@1', {}))) as ErrorEnvelope).error.message, 'fake failure');
    assert.equal(((await c.invoke(invocation('testing/echo@1', {}))) as ErrorEnvelope).error.message, 'fake failure');
    assert.equal(connections, 1, 'the second invoke rode the first connection');
    // Next, the pooled connection dies on the invoke without a word: the run never started.
    behave = (ws) => {
      behave = (fresh, invoke) => fresh.send(JSON.stringify({ kind: 'result', envelope: errorEnvelope(invoke) }));
      ws.terminate();
    };
    assert.equal(((await c.invoke(invocation('testing/echo@1', {}))) as ErrorEnvelope).error.message, 'fake failure');
    assert.equal(connections, 2, 'retried on a fresh connection');
    c.close();
  });
});
