/**
 * The light Engine API client (src/docker/engine-api.ts) against the real engine, reached the
 * ways DOCKER_HOST names it: the default socket, `unix://`, and `tcp://` (here a loopback port
 * that relays to the engine's socket, as a remote engine without TLS would be reached). Each way
 * gives the same answers as dockerode, and failures have the shape engine.ts's helpers read.
 * Each case runs in a child process, as a CLI does: the client settles its route once per process.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createConnection, createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { engine } from '../../src/docker/engine.js';
import { BASE_IMAGE } from '../../src/docker/images.js';
import { needDocker } from '../helpers/docker.js';

const API = fileURLToPath(new URL('../../src/docker/engine-api.js', import.meta.url));
const ENGINE = fileURLToPath(new URL('../../src/docker/engine.js', import.meta.url));

/** Runs one engine-api call in a fresh process with DOCKER_HOST set (or unset); its JSON answer. */
async function callWith(dockerHost: string | undefined, expression: string): Promise<Record<string, unknown>> {
  const env = { ...process.env };
  if (dockerHost === undefined) delete env['DOCKER_HOST'];
  else env['DOCKER_HOST'] = dockerHost;
  const script = `const api = await import(${JSON.stringify(API)}); const { statusOf, isUnreachable } = await import(${JSON.stringify(ENGINE)});
    try { const value = await (${expression}); console.log(JSON.stringify({ value: value ?? null })); }
    catch (err) { console.log(JSON.stringify({ status: statusOf(err) ?? null, unreachable: isUnreachable(err), message: String(err.json?.message ?? err.code ?? err.message) })); }`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { env });
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe('the light Engine API client, by every DOCKER_HOST it dials itself', { timeout: 120_000 }, () => {
  let relay: Server;
  let relayPort = 0;
  before(async () => {
    relay = createServer((client) => {
      const upstream = createConnection('/var/run/docker.sock');
      client.pipe(upstream).pipe(client);
      const close = () => (client.destroy(), upstream.destroy());
      client.on('error', close);
      upstream.on('error', close);
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    relayPort = (relay.address() as { port: number }).port;
  });
  after(() => relay.close());

  it('inspects the base image as dockerode does, over the default socket, unix:// and tcp://', async (t) => {
    if (!(await needDocker(t))) return;
    const expected = (await engine().getImage(BASE_IMAGE).inspect()).Id;
    for (const host of [undefined, 'unix:///var/run/docker.sock', `tcp://127.0.0.1:${relayPort}`]) {
      const answer = await callWith(host, `api.inspectImage(${JSON.stringify(BASE_IMAGE)}).then((i) => i.Id)`);
      assert.deepEqual(answer, { value: expected }, `DOCKER_HOST=${host ?? '(unset)'}`);
      assert.deepEqual(await callWith(host, 'api.pingEngine()'), { value: null });
    }
  });

  it("reports the engine's 404 with its status and message, as dockerode's errors carry them", async (t) => {
    if (!(await needDocker(t))) return;
    const answer = await callWith(`tcp://127.0.0.1:${relayPort}`, "api.inspectContainer('procctl-no-such-container-7f3a')");
    assert.equal(answer['status'], 404);
    assert.equal(answer['unreachable'], false);
    assert.match(String(answer['message']), /No such container: procctl-no-such-container-7f3a/);
  });

  it('calls an engine that is not there unreachable (no status), whatever the route', async () => {
    for (const host of ['unix:///nonexistent/procctl-test-docker.sock', 'tcp://127.0.0.1:1']) {
      const answer = await callWith(host, 'api.pingEngine()');
      assert.equal(answer['status'], null, host);
      assert.equal(answer['unreachable'], true, host);
      assert.match(String(answer['message']), /ENOENT|ECONNREFUSED/, host);
    }
  });
});
