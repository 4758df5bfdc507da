/**
 * A local stand-in for Modal's control plane, for tests and for trying procctl's Modal placement
 * by hand. It serves Modal's real wire protocol (the installed SDK's own `ModalClient` service
 * definition and codecs, see wire.ts) over h2c, so the code under test is exactly the code that
 * talks to Modal, configured only by MODAL_SERVER_URL and tokens.
 *
 * Behind it: sandboxes are real Docker containers of the requested image (pulled by digest from
 * the registry it names), an encrypted port's tunnel is a TLS listener on 127.0.0.1 forwarding to
 * the container, timeouts really end sandboxes, secrets reach only the sandboxes that mount them,
 * logs come from the container. It is faithful where procctl depends on it — NOT_FOUND,
 * ALREADY_EXISTS, UNAUTHENTICATED, Modal's name rules, environments kept apart — and answers
 * UNIMPLEMENTED for the RPCs procctl never makes.
 *
 * Every RPC is appended to the request log (one JSON line: method and decoded request), so a test
 * can show which calls carried what.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { connect, type Server as NetServer } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type Dockerode from 'dockerode';
import { engine } from '../../src/docker/engine.js';
import { pullByDigest } from '../../src/docker/images.js';
import { ensureMockNetwork, guardHost, MOCK_NETWORK } from '../../src/docker/network.js';
import { loadModalWire, type MethodDefinition } from './wire.js';
import { makeCertificates, type TestCertificates } from './tls.js';

export interface ModalStandinOptions {
  tokenId: string;
  tokenSecret: string;
  /** The Modal environments that exist (the first is the default). */
  environments?: string[];
  /** A file every RPC is appended to, one JSON line each. */
  requestLog?: string;
  /** Port for the gRPC server on 127.0.0.1 (default: any free one). */
  port?: number;
  certificates?: TestCertificates;
  /** Progress lines (pulls, sandboxes starting and ending). */
  log?: (line: string) => void;
}

export interface StandinSandbox {
  id: string;
  taskId: string;
  appId: string;
  env: string;
  name: string;
  containerName: string;
  createdAt: number;
  result?: GenericResult;
}

export interface ModalStandin {
  /** For MODAL_SERVER_URL: `http://127.0.0.1:PORT` (h2c). */
  url: string;
  /** For NODE_EXTRA_CA_CERTS: the CA the tunnels' certificate chains to. */
  caFile: string;
  sandboxes(): StandinSandbox[];
  close(): Promise<void>;
}

interface GenericResult {
  status: number;
  exitcode?: number;
  exception?: string;
}

/** GenericResult.status values (modal.client.GenericResult.GenericStatus). */
const STATUS = { SUCCESS: 1, FAILURE: 2, TERMINATED: 3, TIMEOUT: 4 } as const;
const NETWORK = { OPEN: 1, BLOCKED: 2, ALLOWLIST: 3 } as const;
const CREATION = { UNSPECIFIED: 0, CREATE_IF_MISSING: 1, CREATE_FAIL_IF_EXISTS: 2, CREATE_OVERWRITE_IF_EXISTS: 3, EPHEMERAL: 5 } as const;
/** Modal's object name rule (the SDK checks it too; the server is the authority). */
const NAME = /^[A-Za-z0-9._-]{1,63}$/;
const APP_ID_LIKE = /^ap-[A-Za-z0-9]{22}$/;
export const STANDIN_LABEL = 'procctl.modal-standin';

/**
 * A decoded request. The SDK exports no types for its wire messages, so fields are read by name
 * as the SDK's own request builders (SandboxCreateV2Request.create and friends) spell them.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Decoded = Record<string, any>;

interface Secret {
  id: string;
  name: string;
  env: string;
  values: Record<string, string>;
}

interface Sandbox extends StandinSandbox {
  tags: { tagName: string; tagValue: string }[];
  timeoutSecs: number;
  tunnels: { containerPort: number; host: string; port: number; server: NetServer }[];
  ended: Promise<void>;
  end: () => void;
  timer?: NodeJS.Timeout;
  finishing?: boolean;
  /** Resolves once the tunnels listen: until then GetTunnels waits, as Modal's does. */
  ready: Promise<void>;
  markReady: () => void;
}

const ULID = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
function objectId(prefix: string, length = 26): string {
  return `${prefix}-${[...randomBytes(length)].map((b) => ULID[b % 32]).join('')}`;
}

export async function startModalStandin(options: ModalStandinOptions): Promise<ModalStandin> {
  const { definition, niceGrpc } = loadModalWire();
  const { ServerError, Status, createServer } = niceGrpc;
  const log = options.log ?? (() => undefined);
  const environments = new Map((options.environments ?? ['main']).map((name) => [name, { id: objectId('en', 22), apps: new Map<string, string>(), secrets: new Map<string, Secret>() }]));
  const defaultEnv = [...environments.keys()][0] as string;
  const apps = new Map<string, { name: string; env: string }>();
  const images = new Map<string, { reference: string }>();
  const secretsById = new Map<string, Secret>();
  const sandboxes = new Map<string, Sandbox>();
  const authTokens = new Set<string>();
  const instance = randomBytes(4).toString('hex');
  const certificates = options.certificates ?? makeCertificates();
  const docker = engine();
  await removeOrphans();

  const fail = (code: number, message: string): never => {
    throw new ServerError(code, message);
  };
  const envOf = (name: string | undefined) => {
    const env = name || defaultEnv;
    const found = environments.get(env);
    if (!found) fail(Status.NOT_FOUND, `Environment '${env}' not found`);
    return { name: env, ...(found as NonNullable<typeof found>) };
  };
  const sandboxOf = (id: string): Sandbox => sandboxes.get(id) ?? fail(Status.NOT_FOUND, `Sandbox ${id} not found`);
  const taskInfo = (sb: Sandbox) => ({ id: sb.taskId, startedAt: sb.createdAt, finishedAt: sb.result ? Date.now() / 1000 : 0, result: sb.result, sandboxId: sb.id });

  /** Ends a sandbox once: records why, closes its tunnels and kills its container (kept for its logs). */
  const finish = async (sb: Sandbox, result: GenericResult, kill: boolean) => {
    if (sb.result || sb.finishing) return;
    sb.finishing = true;
    if (sb.timer) clearTimeout(sb.timer);
    for (const t of sb.tunnels) t.server.close();
    // Killed first, then reported ended: whoever learns of the end finds the container stopped.
    if (kill) await docker.getContainer(sb.containerName).kill().catch(() => undefined);
    sb.result = result;
    log(`sandbox ${sb.name || sb.id} ended: status ${result.status}${result.exitcode !== undefined ? ` exit ${result.exitcode}` : ''}`);
    sb.end();
  };

  const handlers: Record<string, (request: Decoded) => Promise<Record<string, unknown>> | AsyncIterable<Record<string, unknown>>> = {
    async authTokenGet() {
      // A JWT-shaped token: the SDK reads `exp` from its payload to know when to refresh.
      const payload = Buffer.from(JSON.stringify({ exp: Math.floor(Date.now() / 1000) + 3600, sub: options.tokenId })).toString('base64url');
      const token = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.${randomBytes(16).toString('base64url')}`;
      authTokens.add(token);
      return { token };
    },

    async environmentGetOrCreate(req) {
      const env = envOf(req['deploymentName']);
      return { environmentId: env.id, metadata: { name: env.name, settings: { imageBuilderVersion: '2024.10', webhookSuffix: 'standin' } } };
    },

    async appGetOrCreate(req) {
      const env = envOf(req['environmentName']);
      const name = req['appName'] as string;
      if (!NAME.test(name) || APP_ID_LIKE.test(name)) fail(Status.INVALID_ARGUMENT, `Invalid App name: '${name}'`);
      let appId = env.apps.get(name);
      if (!appId) {
        if (req['objectCreationType'] !== CREATION.CREATE_IF_MISSING) fail(Status.NOT_FOUND, `App '${name}' not found in environment '${env.name}'`);
        appId = objectId('ap', 22);
        env.apps.set(name, appId);
        apps.set(appId, { name, env: env.name });
      }
      return { appId };
    },

    async imageGetOrCreate(req) {
      const commands = (req['image']?.dockerfileCommands ?? []) as string[];
      const from = commands.length === 1 ? /^FROM (\S+)$/.exec(commands[0] ?? '')?.[1] : undefined;
      if (!from) fail(Status.UNIMPLEMENTED, `the stand-in builds only registry images (one FROM line), not ${JSON.stringify(commands)}`);
      const registrySecret = req['image']?.imageRegistryConfig?.secretId as string | undefined;
      if (registrySecret && !secretsById.has(registrySecret)) fail(Status.NOT_FOUND, `Secret ${registrySecret} not found`);
      const imageId = objectId('im');
      images.set(imageId, { reference: from as string });
      try {
        await pullByDigest(from as string, (line) => log(line));
        return { imageId, result: { status: STATUS.SUCCESS } };
      } catch (err) {
        // Modal reports a failed pull as a failed build of the image, not as an RPC error.
        return { imageId, result: { status: STATUS.FAILURE, exception: `Image pull failed: ${(err as Error).message}` } };
      }
    },

    async secretGetOrCreate(req) {
      const env = envOf(req['environmentName']);
      const type = req['objectCreationType'] as number;
      const values = (req['envDict'] ?? {}) as Record<string, string>;
      if (type === CREATION.EPHEMERAL) {
        const secret = { id: objectId('st'), name: '', env: env.name, values };
        secretsById.set(secret.id, secret);
        return { secretId: secret.id };
      }
      const name = req['deploymentName'] as string;
      if (!NAME.test(name)) fail(Status.INVALID_ARGUMENT, `Invalid Secret name: '${name}'`);
      let secret = env.secrets.get(name);
      if (type === CREATION.UNSPECIFIED) {
        if (!secret) fail(Status.NOT_FOUND, `Secret '${name}' not found in environment '${env.name}'`);
        const missing = ((req['requiredKeys'] ?? []) as string[]).filter((k) => !(k in (secret as Secret).values));
        if (missing.length > 0) fail(Status.FAILED_PRECONDITION, `Secret is missing key(s): ${missing.join(', ')}`);
      } else if (!secret || type === CREATION.CREATE_OVERWRITE_IF_EXISTS) {
        if (secret && type === CREATION.CREATE_FAIL_IF_EXISTS) fail(Status.ALREADY_EXISTS, `Secret '${name}' already exists`);
        secret = { id: secret?.id ?? objectId('st'), name, env: env.name, values: { ...values } };
        env.secrets.set(name, secret);
        secretsById.set(secret.id, secret);
      }
      return { secretId: (secret as Secret).id };
    },

    async sandboxCreateV2(req) {
      const app = apps.get(req['appId']) ?? fail(Status.NOT_FOUND, `App ${req['appId']} not found`);
      const def = req['definition'] as Decoded;
      const name = (def['name'] ?? '') as string;
      if (name && (!NAME.test(name) || APP_ID_LIKE.test(name))) fail(Status.INVALID_ARGUMENT, `Invalid Sandbox name: '${name}'`);
      if (name && [...sandboxes.values()].some((s) => s.appId === req['appId'] && s.name === name && !s.result)) fail(Status.ALREADY_EXISTS, `Sandbox with name '${name}' already exists in App '${app.name}'`);
      const image = images.get(def['imageId']) ?? fail(Status.NOT_FOUND, `Image ${def['imageId']} not found`);
      // Secrets by id must live in the App's environment; inline env dicts go to this sandbox only.
      const env: Record<string, string> = {};
      for (const source of (req['secretSources'] ?? []) as { secretId?: string; env?: { contents: Record<string, string> } }[]) {
        if (source.secretId) {
          const secret = secretsById.get(source.secretId);
          if (!secret || (secret.name && secret.env !== app.env)) fail(Status.NOT_FOUND, `Secret ${source.secretId} not found in environment '${app.env}'`);
          Object.assign(env, (secret as Secret).values);
        }
        if (source.env) Object.assign(env, source.env.contents);
      }
      const access = def['networkAccess'] as { networkAccessType: number; allowedCidrs: string[] } | undefined;
      const type = access?.networkAccessType ?? NETWORK.OPEN;
      if (type === NETWORK.ALLOWLIST && access && access.allowedCidrs.length > 0) fail(Status.UNIMPLEMENTED, 'the stand-in supports only an empty outbound allowlist');
      // OPEN: the default bridge (the host stands in for the internet). An empty allowlist: no
      // route out at all (procctl's internal mock network, kept off host services). BLOCKED: no
      // networking whatever, so tunnels cannot reach it either.
      const networkMode = type === NETWORK.BLOCKED ? 'none' : type === NETWORK.ALLOWLIST ? MOCK_NETWORK : 'bridge';
      const args = (def['entrypointArgs'] ?? []) as string[];
      const resources = (def['resources'] ?? {}) as { milliCpu?: number; memoryMb?: number };
      const id = objectId('sb');
      const containerName = `procctl-modal-standin-${instance}-${id.slice(3).toLowerCase()}`;
      const createOptions: Dockerode.ContainerCreateOptions = {
        name: containerName,
        Image: image.reference,
        // Modal runs the sandbox's command itself; without one the sandbox only sleeps.
        Entrypoint: args.length > 0 ? [args[0] as string] : ['sleep', 'infinity'],
        Cmd: args.slice(1),
        Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
        Labels: { [STANDIN_LABEL]: instance, [`${STANDIN_LABEL}.pid`]: String(process.pid), [`${STANDIN_LABEL}.sandbox`]: id },
        HostConfig: {
          Init: true,
          NetworkMode: networkMode,
          ...(resources.memoryMb ? { Memory: resources.memoryMb * 1024 * 1024, MemorySwap: resources.memoryMb * 1024 * 1024 } : {}),
          ...(resources.milliCpu ? { NanoCpus: resources.milliCpu * 1e6 } : {}),
          ...(networkMode === 'bridge' && { ExtraHosts: ['host.docker.internal:host-gateway'] }),
        },
      };
      let end: () => void = () => undefined;
      const ended = new Promise<void>((resolve) => (end = resolve));
      let markReady: () => void = () => undefined;
      const ready = new Promise<void>((resolve) => (markReady = resolve));
      const sb: Sandbox = { ready, markReady, id, taskId: objectId('ta'), appId: req['appId'], env: app.env, name, containerName, createdAt: Date.now() / 1000, tags: [...((req['tags'] ?? []) as Sandbox['tags'])], timeoutSecs: def['timeoutSecs'] ?? 300, tunnels: [], ended, end };
      // Registered before the first await: like Modal, a name is taken the moment a create is accepted.
      sandboxes.set(id, sb);
      let container: Dockerode.Container;
      try {
        if (networkMode === MOCK_NETWORK) {
          await ensureMockNetwork();
          await guardHost((m) => log(`warning: ${m}`));
        }
        container = await docker.createContainer(createOptions);
        await container.start();
      } catch (err) {
        sandboxes.delete(id);
        sb.end();
        return fail(Status.INTERNAL, `cannot start the sandbox container: ${(err as Error).message}`);
      }
      const info = await container.inspect();
      const ip = networkMode === 'none' ? undefined : info.NetworkSettings.Networks[networkMode]?.IPAddress;
      for (const port of ((def['openPorts']?.ports ?? []) as { port: number }[]).map((p) => p.port)) {
        const server = createTlsServer({ key: certificates.key, cert: certificates.cert }, (socket) => {
          if (!ip) return socket.destroy();
          const upstream = connect(port, ip);
          socket.pipe(upstream).pipe(socket);
          upstream.on('error', () => socket.destroy());
          socket.on('error', () => upstream.destroy());
        });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        server.unref();
        sb.tunnels.push({ containerPort: port, host: '127.0.0.1', port: (server.address() as { port: number }).port, server });
      }
      sb.markReady();
      // The timeout is real: the sandbox ends then, whatever it is doing.
      sb.timer = setTimeout(() => void finish(sb, { status: STATUS.TIMEOUT, exception: `Sandbox timed out after ${sb.timeoutSecs}s` }, true), sb.timeoutSecs * 1000);
      sb.timer.unref();
      void container.wait().then(async () => {
        const state = (await container.inspect().catch(() => undefined))?.State;
        const oom = state?.OOMKilled ?? false;
        const exitcode = state?.ExitCode ?? -1;
        await finish(sb, oom ? { status: STATUS.FAILURE, exitcode, exception: 'Sandbox was OOM-killed: it ran out of memory' } : { status: exitcode === 0 ? STATUS.SUCCESS : STATUS.FAILURE, exitcode }, false);
      }, () => undefined);
      log(`sandbox ${name || id} started in ${app.name} [${app.env}] from ${image.reference}`);
      return { sandboxId: id, taskId: sb.taskId, tunnels: tunnelsOf(sb) };
    },

    async sandboxGetFromNameV2(req) {
      const env = envOf(req['environmentName']);
      const appId = env.apps.get(req['appName']) ?? fail(Status.NOT_FOUND, `App '${req['appName']}' not found in environment '${env.name}'`);
      const named = [...sandboxes.values()].filter((s) => s.appId === appId && s.name === req['sandboxName']).sort((a, b) => b.createdAt - a.createdAt);
      const found = named.find((s) => !s.result) ?? (req['includeTerminated'] ? named[0] : undefined);
      if (!found) fail(Status.NOT_FOUND, `Sandbox with name '${req['sandboxName']}' not found`);
      return { sandboxId: (found as Sandbox).id, metadata: { appId } };
    },
    async sandboxGetFromName(req) {
      // V1 lookup, which the SDK falls back to: there are no V1 sandboxes here.
      fail(Status.NOT_FOUND, `Sandbox with name '${req['sandboxName']}' not found`);
      return {};
    },

    async sandboxWaitV2(req) {
      const sb = sandboxOf(req['sandboxId']);
      const timeout = Math.min(Number(req['timeout'] ?? 0), 55);
      if (!sb.result && timeout > 0) await Promise.race([sb.ended, new Promise((r) => setTimeout(r, timeout * 1000).unref())]);
      return { result: sb.result, metadata: { appId: sb.appId } };
    },

    async sandboxGetTaskIdV2(req) {
      const sb = sandboxOf(req['sandboxId']);
      return { taskId: sb.taskId, ...(sb.result && { taskResult: sb.result }) };
    },

    async sandboxGetTunnelsV2(req) {
      const sb = sandboxOf(req['sandboxId']);
      let waited: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => (waited = setTimeout(() => resolve('timeout'), Math.min(Number(req['timeout'] ?? 0), 55) * 1000)));
      const outcome = await Promise.race([sb.ready, sb.ended, timeout]);
      clearTimeout(waited);
      if (outcome === 'timeout') return { result: { status: STATUS.TIMEOUT }, tunnels: [] };
      return { result: { status: STATUS.SUCCESS }, tunnels: tunnelsOf(sb) };
    },

    async sandboxTagsGetV2(req) {
      return { tags: sandboxOf(req['sandboxId']).tags };
    },
    async sandboxTagsSetV2(req) {
      sandboxOf(req['sandboxId']).tags = [...req['tags']];
      return {};
    },

    async sandboxListV2(req) {
      const env = req['appId'] ? undefined : envOf(req['environmentName']).name;
      const wanted = (req['tags'] ?? []) as Sandbox['tags'];
      const before = Number(req['beforeTimestamp'] ?? 0);
      const list = [...sandboxes.values()]
        .filter((s) => (req['appId'] ? s.appId === req['appId'] : s.env === env))
        .filter((s) => req['includeFinished'] || !s.result)
        .filter((s) => !before || s.createdAt < before)
        .filter((s) => wanted.every((w) => s.tags.some((t) => t.tagName === w.tagName && t.tagValue === w.tagValue)))
        .sort((a, b) => b.createdAt - a.createdAt)
        .slice(0, 100);
      return { sandboxes: list.map((s) => ({ id: s.id, createdAt: s.createdAt, appId: s.appId, tags: s.tags, name: s.name, timeoutSecs: s.timeoutSecs, taskInfo: taskInfo(s) })) };
    },

    async sandboxTerminateV2(req) {
      const sb = sandboxOf(req['sandboxId']);
      await finish(sb, { status: STATUS.TERMINATED, exception: 'Sandbox terminated' }, true);
      return {};
    },

    async appFetchLogs(req) {
      const sb = [...sandboxes.values()].find((s) => (req['sandboxId'] && s.id === req['sandboxId']) || (req['taskId'] && s.taskId === req['taskId']));
      if (!sb) return { batches: [] };
      const since = req['since'] instanceof Date ? req['since'].getTime() : 0;
      const until = req['until'] instanceof Date ? req['until'].getTime() : Infinity;
      const items = (await containerLogs(docker.getContainer(sb.containerName))).filter((i) => i.ms >= since && i.ms <= until).filter((i) => !req['source'] || i.fileDescriptor === req['source']);
      const limit = Number(req['limit'] ?? 0);
      const chosen = limit > 0 ? items.slice(-limit) : items;
      return { batches: [{ taskId: sb.taskId, sandboxId: sb.id, items: chosen.map(({ ms: _ms, ...item }) => item) }] };
    },
  };

  const tunnelsOf = (sb: Sandbox) => (sb.result ? [] : sb.tunnels.map(({ containerPort, host, port }) => ({ containerPort, host, port })));

  const authorized = (metadata: { get(key: string): unknown }, method: string) => {
    const id = metadata.get('x-modal-token-id');
    const secret = metadata.get('x-modal-token-secret');
    if (id !== undefined || secret !== undefined) return id === options.tokenId && secret === options.tokenSecret;
    const token = metadata.get('x-modal-auth-token');
    return method !== 'authTokenGet' && typeof token === 'string' && authTokens.has(token);
  };

  const record = (def: MethodDefinition, request: unknown) => {
    if (!options.requestLog) return;
    const json = def.requestType.toJSON ? def.requestType.toJSON(request) : request;
    appendFileSync(options.requestLog, `${JSON.stringify({ method: def.name, request: json })}\n`);
  };

  const implementation: Record<string, unknown> = {};
  for (const [key, def] of Object.entries(definition.methods)) {
    const handler = handlers[key];
    const guard = (request: unknown, context: { metadata: { get(key: string): unknown } }) => {
      record(def, request);
      if (!authorized(context.metadata, key)) fail(Status.UNAUTHENTICATED, 'Invalid token id or secret');
      if (!handler) fail(Status.UNIMPLEMENTED, `the Modal stand-in does not implement ${def.name}`);
    };
    implementation[key] = def.responseStream
      ? async function* (request: unknown, context: { metadata: { get(key: string): unknown } }) {
          guard(request, context);
          yield* handler!(request as Record<string, unknown>) as AsyncIterable<Record<string, unknown>>;
        }
      : async (request: unknown, context: { metadata: { get(key: string): unknown } }) => {
          guard(request, context);
          return handler!(request as Record<string, unknown>);
        };
  }

  const server = createServer();
  server.add(definition as never, implementation as never);
  const port = await server.listen(`127.0.0.1:${options.port ?? 0}`);

  return {
    url: `http://127.0.0.1:${port}`,
    caFile: certificates.caFile,
    sandboxes: () => [...sandboxes.values()].map(({ id, taskId, appId, env, name, containerName, createdAt, result }) => ({ id, taskId, appId, env, name, containerName, createdAt, ...(result && { result }) })),
    async close() {
      for (const sb of sandboxes.values()) {
        if (sb.timer) clearTimeout(sb.timer);
        for (const t of sb.tunnels) t.server.close();
        sb.end();
      }
      await server.shutdown().catch(() => undefined);
      // Only this stand-in's containers: others on the shared engine are not ours to remove.
      const ours = await docker.listContainers({ all: true, filters: { label: [`${STANDIN_LABEL}=${instance}`] } });
      await Promise.all(ours.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
    },
  };
}

/** Containers of stand-ins whose process is gone (killed before it could clean up): removed. */
async function removeOrphans(): Promise<void> {
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM';
    }
  };
  const all = await engine().listContainers({ all: true, filters: { label: [STANDIN_LABEL] } });
  const orphans = all.filter((c) => !alive(Number(c.Labels[`${STANDIN_LABEL}.pid`])));
  await Promise.all(orphans.map((c) => engine().getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
}

interface LogItem {
  data: string;
  fileDescriptor: number;
  timestamp: number;
  timestampNs: string;
  ms: number;
}

/** The container's output as Modal log items: one per line, stdout (1) or stderr (2), with its time. */
async function containerLogs(container: Dockerode.Container): Promise<LogItem[]> {
  const raw = (await container.logs({ stdout: true, stderr: true, timestamps: true, follow: false }).catch(() => Buffer.alloc(0))) as unknown as Buffer;
  const items: LogItem[] = [];
  // The engine's multiplexed stream: an 8-byte header (stream, 0, 0, 0, length) per frame.
  for (let at = 0; at + 8 <= raw.length; ) {
    const stream = raw[at] as number;
    const length = raw.readUInt32BE(at + 4);
    const text = raw.subarray(at + 8, at + 8 + length).toString('utf8');
    at += 8 + length;
    for (const line of text.split('\n')) {
      if (!line) continue;
      const space = line.indexOf(' ');
      const stamp = line.slice(0, space);
      const ms = Date.parse(stamp);
      const fraction = /\.(\d+)Z$/.exec(stamp)?.[1] ?? '0';
      const ns = BigInt(Math.floor(ms / 1000)) * 1_000_000_000n + BigInt(fraction.padEnd(9, '0').slice(0, 9));
      items.push({ data: `${line.slice(space + 1)}\n`, fileDescriptor: stream === 2 ? 2 : 1, timestamp: ms / 1000, timestampNs: ns.toString(), ms });
    }
  }
  return items;
}
