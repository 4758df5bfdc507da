/**
 * Helpers for the runtime and protocol tests: a registry with the test processors, a runtime
 * server on a real loopback port, invoke arguments, and a raw WebSocket client that can send any
 * frame (the real client never sends a bad one) and report how the connection ended.
 */
import { cpSync, existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WebSocket, type RawData } from 'ws';
import { MemoryArtifactStore, Registry, RuntimeClient, RuntimeServer, SUBPROTOCOL, type InvocationArgs, type Mode, type RuntimeServerOptions } from '../../src/index.js';
import { tempDir } from './cli.js';
import { FIXTURE_REGISTRY } from './paths.js';
import { invokeFrameText } from '../../src/protocol/invoke-frame.js';

export const TOKEN = 'test-token-0123456789';

let registryDir: string | undefined;

/**
 * The fixture registry plus testing/wait@1: the echo handler with a 60 s limit and concurrency 2,
 * for runs a test stops itself (cancel, a dropped connection, shutdown) rather than by timeout.
 */
export function testRegistry(): string {
  if (registryDir && existsSync(registryDir)) return registryDir;
  const dir = tempDir('procctl-runtime-registry-');
  cpSync(FIXTURE_REGISTRY, dir, { recursive: true });
  const echoYaml = readFileSync(join(FIXTURE_REGISTRY, 'testing-echo-v1', 'registry.yaml'), 'utf8');
  mkdirSync(join(dir, 'testing-wait-v1'));
  writeFileSync(join(dir, 'testing-wait-v1', 'registry.yaml'), echoYaml.replace('ref: testing/echo@1', 'ref: testing/wait@1').replace('timeout_s: 1', 'timeout_s: 60').replace('concurrency: 4', 'concurrency: 2'));
  writeFileSync(join(dir, 'testing-wait-v1', 'handler.js'), `export { default } from ${JSON.stringify(pathToFileURL(join(FIXTURE_REGISTRY, 'testing-echo-v1', 'handler.js')).href)};\n`);
  registryDir = dir;
  return dir;
}

export interface TestRuntime {
  server: RuntimeServer;
  url: string;
  logs: string[];
  store: MemoryArtifactStore;
  client: RuntimeClient;
  stop(): Promise<void>;
}

/** A runtime server in this process, on a free loopback port, with the test registry. */
export async function startTestRuntime(options: Partial<RuntimeServerOptions> = {}): Promise<TestRuntime> {
  const logs: string[] = [];
  const server = await RuntimeServer.start({ token: TOKEN, registryDir: testRegistry(), log: (line) => logs.push(line), env: {}, ...options });
  const store = new MemoryArtifactStore();
  const client = new RuntimeClient({ url: server.url, token: TOKEN, store });
  return {
    server,
    url: server.url,
    logs,
    store,
    client,
    async stop() {
      client.close();
      await server.shutdown(0);
    },
  };
}

/** Invoke arguments for a processor of the test registry (or the built-in one). */
export function invocation(ref: string, params: Record<string, unknown>, options: { executionId?: string; mode?: Mode; secretsPresent?: string[]; writePrefix?: string } = {}): InvocationArgs {
  const registry = ref.startsWith('testing/') ? new Registry(testRegistry()) : new Registry();
  return {
    processorRef: ref,
    inputsJson: { schema: 'v1', mode: options.mode ?? 'mock', params },
    writePrefix: options.writePrefix ?? 'executions/{execution_id}/',
    executionId: options.executionId ?? `t-${Math.random().toString(36).slice(2, 10)}`,
    registrySnapshot: registry.snapshot(ref),
    secretsPresent: options.secretsPresent ?? [],
  };
}

export interface Closed {
  code: number;
  reason: string;
}

/** A raw client: frames received (text parsed, binary as Buffers), and how the connection ended. */
export interface RawClient {
  ws: WebSocket;
  frames: (Record<string, unknown> | Buffer)[];
  closed: Promise<Closed>;
  /** Resolves with the first text frame of this kind (already received or still to come). */
  next(kind: string): Promise<Record<string, unknown>>;
}

export function rawClient(url: string, options: { token?: string | null; protocol?: string | null; path?: string } = {}): Promise<RawClient> {
  const headers: Record<string, string> = {};
  const token = options.token === undefined ? TOKEN : options.token;
  if (token !== null) headers['authorization'] = `Bearer ${token}`;
  const protocol = options.protocol === undefined ? SUBPROTOCOL : options.protocol;
  const ws = new WebSocket(`${url.replace('http', 'ws')}${options.path ?? '/run'}`, protocol === null ? [] : [protocol], { headers, perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
  const frames: RawClient['frames'] = [];
  const waiters: { kind: string; resolve: (frame: Record<string, unknown>) => void }[] = [];
  ws.on('message', (data: RawData, isBinary: boolean) => {
    const frame = isBinary ? (data as Buffer) : (JSON.parse((data as Buffer).toString('utf8')) as Record<string, unknown>);
    frames.push(frame);
    if (!Buffer.isBuffer(frame)) for (const w of waiters.filter((w) => w.kind === frame['kind'])) w.resolve(frame);
  });
  const closed = new Promise<Closed>((resolve) => ws.on('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString('utf8') })));
  return new Promise((resolve, reject) => {
    ws.once('open', () =>
      resolve({
        ws,
        frames,
        closed,
        next: (kind) => {
          const seen = frames.find((f): f is Record<string, unknown> => !Buffer.isBuffer(f) && f['kind'] === kind);
          return seen ? Promise.resolve(seen) : new Promise((r) => waiters.push({ kind, resolve: r }));
        },
      }),
    );
    ws.once('unexpected-response', (_req, res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        ws.terminate();
      });
    });
    ws.once('error', reject);
  });
}

/** The invoke frame the real client would send, as an object a test can spoil. */
export function invokeFrame(args: InvocationArgs, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...(JSON.parse(invokeFrameText(args, [])) as Record<string, unknown>), ...extra };
}

/** Polls until `check` holds; the test's own timeout bounds the wait, never a clock in here. */
export async function until(check: () => boolean | Promise<boolean>, what: string, everyMs = 5): Promise<void> {
  let tries = 0;
  while (!(await check())) {
    tries++;
    if (tries % 2000 === 0) process.stderr.write(`still waiting for ${what}\n`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Lines of a heartbeat file (the fixture appends "beat" until stopped, then "stopped CODE"). */
export function beats(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}
