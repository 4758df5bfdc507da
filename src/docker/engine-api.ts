/**
 * The Engine API calls a container start makes — ping, inspect a container, an image or a
 * network, create and start a container — as plain JSON requests with node:http on the engine's
 * socket. dockerode (engine.ts) brings grpc, protobufjs and ssh2 with it: ~115 ms to load, more
 * than the rest of `localctl start`, for calls that need none of them. Streams (build, push, pull,
 * logs) and everything else stay on dockerode.
 *
 * The engine is found as dockerode finds it: `DOCKER_HOST` (`unix://`, `tcp://`), else
 * `~/.docker/run/docker.sock` when it exists, else `/var/run/docker.sock`. An engine this client does
 * not dial itself — TLS (`DOCKER_TLS_VERIFY=1`, port 2376), `ssh://`, `npipe://` — is asked through
 * dockerode, so every engine dockerode reaches works here too. Failures carry `statusCode` and
 * `json` as dockerode's do, and a socket error its `code`, so engine.ts's helpers read both alike.
 */
import { access } from 'node:fs/promises';
import { request, type RequestOptions } from 'node:http';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { ENGINE_API_VERSION, engine } from './engine.js';

type Dial = Pick<RequestOptions, 'socketPath' | 'host' | 'port'>;

let dialed: Promise<Dial | undefined> | undefined;

/** Where to send requests; undefined when only dockerode can reach the engine. */
function dial(env: NodeJS.ProcessEnv = process.env): Promise<Dial | undefined> {
  dialed ??= (async () => {
    const host = env['DOCKER_HOST'];
    if (env['DOCKER_TLS_VERIFY'] === '1') return undefined;
    if (!host) {
      const user = join(homedir(), '.docker', 'run', 'docker.sock');
      return { socketPath: await access(user).then(() => user, () => '/var/run/docker.sock') };
    }
    if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) || '/var/run/docker.sock' };
    if (host.startsWith('tcp://')) {
      const url = new URL(`http://${host.slice('tcp://'.length)}`);
      if (url.port === '2376') return undefined;
      return { host: url.hostname, port: Number(url.port || 2375) };
    }
    return undefined;
  })();
  return dialed;
}

/** An answer outside 2xx, shaped as dockerode's errors are. */
class EngineAnswer extends Error {
  constructor(
    readonly statusCode: number,
    readonly json: { message?: string } | undefined,
  ) {
    super(json?.message ?? `the engine answered HTTP ${statusCode}`);
  }
}

function call<T>(to: Dial, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request({ ...to, method, path: `/${ENGINE_API_VERSION}${path}`, headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text === '' ? undefined : JSON.parse(text);
        } catch {
          json = text; // /_ping answers "OK"
        }
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve(json as T);
        else reject(new EngineAnswer(status, typeof json === 'object' && json !== null ? (json as { message?: string }) : { message: text }));
      });
    });
    // No socket, refused, reset: an error with a code and no statusCode, which isUnreachable reads.
    req.on('error', reject);
    req.end(payload);
  });
}

export async function pingEngine(): Promise<void> {
  const to = await dial();
  await (to ? call(to, 'GET', '/_ping') : engine().ping());
}

export async function inspectContainer(idOrName: string): Promise<Dockerode.ContainerInspectInfo> {
  const to = await dial();
  return to ? call(to, 'GET', `/containers/${encodeURIComponent(idOrName)}/json`) : engine().getContainer(idOrName).inspect();
}

export async function inspectImage(reference: string): Promise<Dockerode.ImageInspectInfo> {
  const to = await dial();
  return to ? call(to, 'GET', `/images/${encodeURIComponent(reference)}/json`) : engine().getImage(reference).inspect();
}

export async function inspectNetwork(name: string): Promise<Dockerode.NetworkInspectInfo> {
  const to = await dial();
  return to ? call(to, 'GET', `/networks/${encodeURIComponent(name)}`) : (engine().getNetwork(name).inspect() as Promise<Dockerode.NetworkInspectInfo>);
}

/** Creates a container; resolves with its id. */
export async function createContainer(spec: Dockerode.ContainerCreateOptions & { name: string }): Promise<string> {
  const to = await dial();
  if (!to) return (await engine().createContainer(spec)).id;
  const { name, ...config } = spec;
  return (await call<{ Id: string }>(to, 'POST', `/containers/create?name=${encodeURIComponent(name)}`, config)).Id;
}

export async function startCreated(id: string): Promise<void> {
  const to = await dial();
  await (to ? call(to, 'POST', `/containers/${encodeURIComponent(id)}/start`) : engine().getContainer(id).start());
}
