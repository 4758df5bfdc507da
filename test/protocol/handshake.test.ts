import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebSocketServer } from 'ws';
import { RuntimeAdapter, RuntimeClient, MemoryArtifactStore, runtimeHealth, type ErrorEnvelope, type ProcctlError } from '../../src/index.js';
import { invocation, rawClient, startTestRuntime, TOKEN, type TestRuntime } from '../helpers/runtime.js';

interface Refused {
  status: number;
  headers: Record<string, string>;
  body: string;
}

async function refused(promise: Promise<unknown>): Promise<Refused> {
  const err = (await promise.then(
    () => assert.fail('the handshake was accepted'),
    (e: unknown) => e,
  )) as Refused;
  assert.equal(typeof err.status, 'number', String(err));
  return err;
}

describe('runtime handshake and health', () => {
  let rt: TestRuntime;
  before(async () => {
    rt = await startTestRuntime({ imageDigest: `sha256:${'ab'.repeat(32)}`, maxConnections: 3 });
  });
  after(() => rt.stop());

  it('answers /healthz with ok, the image digest, protocol and platform', async () => {
    const health = await runtimeHealth(rt.url);
    assert.deepEqual(health, { ok: true, digest: `sha256:${'ab'.repeat(32)}`, protocol: 'procctl.run.v1', platform: health.platform });
    assert.match(health.platform ?? '', /^linux\//);
    assert.deepEqual(await rt.client.health(), health);
  });

  it('binds loopback by default', () => {
    assert.equal(rt.server.address.host, '127.0.0.1');
  });

  it('refuses a missing or wrong token with 401 before any WebSocket exists', async () => {
    const missing = await refused(rawClient(rt.url, { token: null }));
    assert.equal(missing.status, 401);
    assert.match(missing.headers['www-authenticate'] ?? '', /^Bearer/);
    assert.deepEqual(JSON.parse(missing.body), { error: { code: 'ERR_RUNTIME_AUTH', message: 'no Authorization header; send "Authorization: Bearer <token>" with the token the runtime was started with' } });
    const wrong = await refused(rawClient(rt.url, { token: 'not-the-token' }));
    assert.equal(wrong.status, 401);
    assert.match(JSON.parse(wrong.body).error.message, /bearer token is not the one this runtime was started with/);
    assert.equal(rt.server.stats().connections, 0, 'no session was ever opened');
  });

  it('refuses a missing or foreign subprotocol with 400', async () => {
    const none = await refused(rawClient(rt.url, { protocol: null }));
    assert.equal(none.status, 400);
    assert.deepEqual(JSON.parse(none.body).error, { code: 'ERR_PROTOCOL', message: 'no Sec-WebSocket-Protocol offered; this runtime speaks procctl.run.v1' });
    const other = await refused(rawClient(rt.url, { protocol: 'procctl.run.v0' }));
    assert.equal(other.status, 400);
    assert.match(JSON.parse(other.body).error.message, /subprotocol procctl\.run\.v0 is not spoken here/);
    assert.equal(rt.server.stats().connections, 0);
  });

  it('has no WebSocket endpoint but /run, and no HTTP resource but /healthz', async () => {
    assert.equal((await refused(rawClient(rt.url, { path: '/other' }))).status, 404);
    const res = await fetch(`${rt.url}/run`);
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'ERR_PROTOCOL');
  });

  it('accepts the token and subprotocol, and then refuses connections past its limit with 503 ERR_RUNTIME_BUSY', async () => {
    const open = await Promise.all([rawClient(rt.url), rawClient(rt.url), rawClient(rt.url)]);
    assert.equal(open[0]?.ws.protocol, 'procctl.run.v1');
    const busy = await refused(rawClient(rt.url));
    assert.equal(busy.status, 503);
    assert.equal(JSON.parse(busy.body).error.code, 'ERR_RUNTIME_BUSY');
    for (const c of open) c.ws.close();
    await Promise.all(open.map((c) => c.closed));
  });

  it('gives the client typed errors: ERR_RUNTIME_AUTH, and an error envelope through the adapter', async () => {
    const client = new RuntimeClient({ url: rt.url, token: 'wrong', store: new MemoryArtifactStore() });
    const args = invocation('testing/echo@1', {});
    await assert.rejects(client.invoke(args), (e: ProcctlError) => e.code === 'ERR_RUNTIME_AUTH' && /refused the connection \(HTTP 401\): the bearer token is not the one/.test(e.message));
    const envelope = (await new RuntimeAdapter({ url: rt.url, token: 'wrong', store: new MemoryArtifactStore() }).invoke({ ...args, adapterOpts: {} })) as ErrorEnvelope;
    assert.equal(envelope.status, 'error');
    assert.equal(envelope.error.code, 'ERR_RUNTIME_AUTH');
    assert.equal(envelope.execution_id, args.executionId);
  });
});

describe('runtime client against what is not a runtime', () => {
  it('reports nothing listening as ERR_RUNTIME_UNAVAILABLE', async () => {
    const dead = await startTestRuntime();
    const url = dead.url;
    await dead.stop();
    const client = new RuntimeClient({ url, token: TOKEN, store: new MemoryArtifactStore() });
    await assert.rejects(client.invoke(invocation('testing/echo@1', {})), (e: ProcctlError) => e.code === 'ERR_RUNTIME_UNAVAILABLE' && /cannot connect to the processor runtime at ws:\/\/127\.0\.0\.1:\d+\/run: ECONNREFUSED/.test(e.message));
    await assert.rejects(client.health(), (e: ProcctlError) => e.code === 'ERR_RUNTIME_UNAVAILABLE' && /ECONNREFUSED/.test(e.message));
  });

  it('reports a WebSocket server that does not speak procctl.run.v1 as ERR_PROTOCOL', async () => {
    const foreign = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => false });
    await new Promise((resolve) => foreign.once('listening', resolve));
    const url = `http://127.0.0.1:${(foreign.address() as { port: number }).port}`;
    const client = new RuntimeClient({ url, token: TOKEN, store: new MemoryArtifactStore() });
    await assert.rejects(client.invoke(invocation('testing/echo@1', {})), (e: ProcctlError) => e.code === 'ERR_PROTOCOL' && /does not speak procctl\.run\.v1/.test(e.message));
    await new Promise((resolve) => foreign.close(resolve));
  });
});
