/**
 * The processor runtime: the HTTP server that runs inside every container (and, for tests and the
 * local process placement, as a plain child process). `GET /healthz` says whether it is fit to
 * serve; `/run` is the `procctl.run.v1` WebSocket endpoint, one session per connection, all
 * sessions sharing one concurrency gate. `shutdown()` is what SIGTERM does: stop taking work, let
 * running runs finish for a while, cancel the rest, then close.
 */
import { availableParallelism } from 'node:os';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import { ProcctlError } from '../contracts/errors.js';
import { LIMITS } from '../contracts/limits.js';
import { hostPlatform } from '../contracts/platform.js';
import { CLOSE, HEALTH_PATH, MAX_FRAME_BYTES, SUBPROTOCOL } from '../protocol/constants.js';
import { HandlerPool } from '../execution/handler-pool.js';
import { ConcurrencyGate } from './gate.js';
import { checkUpgrade, refusalBody, tokenChecker, type Refusal } from './handshake.js';
import { Session, type SessionHost } from './session.js';
import { SnapshotCache } from './snapshots.js';

const MiB = 1024 * 1024;
/** How long a terminated worker thread may take to end before /healthz calls its handler stuck. */
const TERMINATE_ALLOWANCE_MS = 1_000;

export const RUNTIME_DEFAULTS = {
  host: '127.0.0.1',
  port: 0,
  /** Invokes that may wait per processor once its `concurrency` slots are taken. */
  queueLimit: 256,
  maxConnections: 1024,
  pingIntervalMs: 15_000,
  /** How long a shutdown lets running runs finish before cancelling them. */
  drainMs: 5_000,
  /** How long a handler may ignore an abort before /healthz reports the runtime unfit. */
  stuckGraceMs: 5_000,
  /** The documented per-run total (contracts/limits.ts); an operator may set it lower. */
  maxAttachmentBytes: LIMITS.totalAttachmentBytes,
  bufferBytes: 1 * MiB,
  /** Handler threads per processor module at most (each hosts several runs; see handler-pool.ts). */
  handlerThreads: availableParallelism(),
};

export interface RuntimeServerOptions extends Partial<typeof RUNTIME_DEFAULTS> {
  /** The bearer token clients must present. Required: the runtime never serves without one. */
  token: string;
  /** Reported by /healthz; the image this runtime was started from, when known. */
  imageDigest?: string | null;
  /** A registry folder with user handlers (`<slug>/handler.js`); built-in handlers always load. */
  registryDir?: string;
  /** Where secret and config values come from; defaults to this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** Where the runtime says what it is doing (shutdown, abandoned handlers); stderr by default. */
  log?: (line: string) => void;
  /**
   * One JSON line per finished run on stdout (execution id, ref, mode, status, error code,
   * duration; never inputs or outputs), so container logs show what the runtime did. Off by
   * default: a benchmark or an embedding program may not want a line per invoke.
   */
  logRuns?: boolean;
}

/** What the run log says of one finished run. */
export interface RunLogRecord {
  execution_id: string;
  ref: string;
  mode: string;
  status: 'success' | 'error';
  code?: string;
  duration_ms: number;
}

export interface RuntimeHealth {
  ok: boolean;
  digest: string | null;
  protocol: string;
  platform: string;
  /** Why the runtime is not fit, when it is not. */
  reason?: string;
}

export interface RuntimeStats {
  connections: number;
  running: number;
  queued: number;
  completed: number;
  /** Runs stopped because their connection closed (or broke the protocol) before the result. */
  disconnectedRuns: number;
  /** Connections closed for a frame the protocol does not allow. */
  protocolCloses: number;
  droppedEvents: number;
  /** Handlers still running after their run ended because they ignored the abort. */
  abandonedHandlers: number;
  /** The most runs that ever ran at once. */
  peakRunning: number;
  /** Connections whose run waits for its client to read before sending more output bytes. */
  waitingForClient: number;
  /** The most any one connection has had queued for its client at once, in bytes. */
  maxBufferedBytes: number;
}

export class RuntimeServer implements SessionHost {
  readonly registryDir: string | undefined;
  readonly env: NodeJS.ProcessEnv;
  readonly bufferBytes: number;
  readonly maxAttachmentBytes: number;
  readonly gate: ConcurrencyGate;
  readonly snapshots = new SnapshotCache();
  readonly handlers: HandlerPool;
  readonly stuckGraceMs: number;
  readonly counters = { completed: 0, disconnectedRuns: 0, protocolCloses: 0, droppedEvents: 0 };
  closing = false;

  private readonly options: typeof RUNTIME_DEFAULTS & RuntimeServerOptions;
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly sessions = new Set<Session>();
  private readonly abandonedHandlers = new Map<Promise<void>, { executionId: string; since: number }>();
  private readonly tokenMatches: (presented: string | undefined) => boolean;
  private readonly log: (line: string) => void;
  private maxBufferedClosed = 0;
  private pinger: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  private drainCut: (() => void) | undefined;

  private constructor(options: RuntimeServerOptions) {
    if (typeof options.token !== 'string' || options.token === '') throw new ProcctlError('ERR_USAGE', 'the runtime needs a bearer token; it never serves without one');
    this.options = { ...RUNTIME_DEFAULTS, ...stripUndefined(options) } as typeof RUNTIME_DEFAULTS & RuntimeServerOptions;
    this.registryDir = options.registryDir;
    this.env = options.env ?? process.env;
    this.bufferBytes = this.options.bufferBytes;
    this.maxAttachmentBytes = this.options.maxAttachmentBytes;
    this.gate = new ConcurrencyGate(this.options.queueLimit);
    this.handlers = new HandlerPool(this.env, { threads: this.options.handlerThreads });
    // A thread starts now, while the server binds, so the first invoke finds one ready.
    this.handlers.prestart();
    this.stuckGraceMs = this.options.stuckGraceMs;
    this.tokenMatches = tokenChecker(options.token);
    this.log = options.log ?? ((line) => process.stderr.write(`procctl-runtime: ${line}\n`));
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: MAX_FRAME_BYTES,
      perMessageDeflate: false,
      clientTracking: false,
      verifyClient: (info: { req: IncomingMessage }, done: (ok: boolean, status?: number, message?: string, headers?: Record<string, string>) => void) => {
        const refusal = this.refusalFor(info.req);
        if (!refusal) return done(true);
        const body = refusalBody(refusal);
        done(false, refusal.status, body, { 'Content-Type': 'application/json', ...refusal.headers });
      },
      handleProtocols: () => SUBPROTOCOL,
    });
    this.http = createServer((req, res) => this.onRequest(req, res));
    this.http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        const session = new Session(ws, socket, this);
        this.sessions.add(session);
        if (this.closing) session.close(CLOSE.GOING_AWAY, 'runtime shutting down');
      });
    });
  }

  /** Starts listening; resolves once the port is bound. */
  static async start(options: RuntimeServerOptions): Promise<RuntimeServer> {
    const server = new RuntimeServer(options);
    await new Promise<void>((resolve, reject) => {
      server.http.once('error', reject);
      server.http.listen(server.options.port, server.options.host, () => {
        server.http.off('error', reject);
        resolve();
      });
    });
    server.pinger = setInterval(() => {
      for (const session of server.sessions) session.keepalive();
    }, server.options.pingIntervalMs);
    server.pinger.unref();
    return server;
  }

  get address(): { host: string; port: number } {
    const address = this.http.address() as AddressInfo;
    return { host: address.address, port: address.port };
  }

  /** The base URL clients use: `http://host:port` (the WebSocket endpoint is `ws://host:port/run`). */
  get url(): string {
    const { host, port } = this.address;
    return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  }

  health(): RuntimeHealth {
    const base = { digest: this.options.imageDigest ?? null, protocol: SUBPROTOCOL, platform: hostPlatform() };
    if (this.closing) return { ok: false, ...base, reason: 'shutting down' };
    const graceMs = this.options.stuckGraceMs;
    // A stopped handler's worker is terminated once the grace is over; one whose thread is still
    // there a while later is blocked where termination cannot reach (native code).
    const stuck = [...this.abandonedHandlers.values()].filter((a) => Date.now() - a.since >= graceMs + TERMINATE_ALLOWANCE_MS);
    if (stuck.length > 0) {
      return { ok: false, ...base, reason: `${stuck.length} handler(s) kept running more than ${graceMs} ms after their run was stopped (executions ${stuck.map((a) => a.executionId).join(', ')}); replace this runtime` };
    }
    return { ok: true, ...base };
  }

  stats(): RuntimeStats {
    let maxBuffered = this.maxBufferedClosed;
    let waiting = 0;
    for (const session of this.sessions) {
      maxBuffered = Math.max(maxBuffered, session.outbox.maxBuffered);
      if (session.outbox.waiting) waiting++;
    }
    return {
      connections: this.sessions.size,
      ...this.gate.counts(),
      peakRunning: this.gate.peakRunning,
      ...this.counters,
      abandonedHandlers: this.abandonedHandlers.size,
      waitingForClient: waiting,
      maxBufferedBytes: maxBuffered,
    };
  }

  abandoned(executionId: string, running: Promise<void>): void {
    this.abandonedHandlers.set(running, { executionId, since: Date.now() });
    const forget = () => this.abandonedHandlers.delete(running);
    running.then(forget, forget);
  }

  runFinished(record: RunLogRecord): void {
    if (this.options.logRuns) process.stdout.write(`${JSON.stringify({ event: 'run', ...record })}\n`);
  }

  closed(session: Session): void {
    this.sessions.delete(session);
    this.maxBufferedClosed = Math.max(this.maxBufferedClosed, session.outbox.maxBuffered);
  }

  private refusalFor(req: IncomingMessage): Refusal | undefined {
    const refusal = checkUpgrade(req, this.tokenMatches);
    if (refusal) return refusal;
    if (this.closing) return { status: 503, code: 'ERR_RUNTIME_UNAVAILABLE', message: 'the processor runtime is shutting down' };
    if (this.sessions.size >= this.options.maxConnections) {
      return { status: 503, code: 'ERR_RUNTIME_BUSY', message: `the processor runtime already holds ${this.sessions.size} connections, its limit` };
    }
    return undefined;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '').split('?')[0];
    const reply = (status: number, body: unknown): void => {
      res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(JSON.stringify(body));
    };
    if (path !== HEALTH_PATH) return reply(404, { error: { code: 'ERR_PROTOCOL', message: `nothing at ${path}; GET ${HEALTH_PATH}, or open a WebSocket at /run` } });
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, { error: { code: 'ERR_PROTOCOL', message: `${HEALTH_PATH} takes GET` } });
    const health = this.health();
    reply(health.ok ? 200 : 503, health);
  }

  /**
   * Stops taking work (new connections and invokes are refused, queued runs turned away), lets
   * running runs finish for `drainMs`, cancels the rest (their clients get an ERR_CANCELLED
   * result) and closes every connection. Safe to call more than once.
   */
  shutdown(drainMs: number = this.options.drainMs): Promise<void> {
    this.stopping ??= this.drainAndClose(drainMs);
    return this.stopping;
  }

  /** Ends a shutdown's drain now (what still runs is cancelled); nothing before a shutdown began. */
  endDrain(): void {
    this.drainCut?.();
  }

  private async drainAndClose(drainMs: number): Promise<void> {
    this.closing = true;
    const busy = [...this.sessions].filter((s) => s.run);
    this.log(`shutting down: ${busy.length} run(s) in flight, ${this.gate.counts().queued} queued; draining up to ${drainMs} ms`);
    this.http.close();
    this.gate.rejectWaiting(new ProcctlError('ERR_RUNTIME_UNAVAILABLE', 'the processor runtime shut down before this queued run started; retry on another'));
    for (const session of this.sessions) if (session.idle) session.close(CLOSE.GOING_AWAY, 'runtime shutting down');
    const runs = () => [...this.sessions].flatMap((s) => (s.run ? [s.run] : []));
    await Promise.race([settledWithin(runs(), drainMs), new Promise<void>((resolve) => (this.drainCut = resolve))]);
    const late = [...this.sessions].filter((s) => s.run);
    if (late.length > 0) {
      this.log(`cancelling ${late.length} run(s) still in flight after ${drainMs} ms`);
      for (const session of late) session.cancelRun('the processor runtime is shutting down');
      // Results of cancelled runs are small, but a client that stopped reading must not hold the exit.
      await settledWithin(runs(), 2_000);
    }
    // Cancelled handlers get the grace to notice their abort and clean up (children, files).
    await settledWithin([...this.abandonedHandlers.keys()], this.options.stuckGraceMs);
    for (const session of this.sessions) session.close(CLOSE.GOING_AWAY, 'runtime shutting down');
    // Results and close frames must reach the clients before the process may exit.
    const open = [...this.sessions];
    await settledWithin(open.map((s) => s.ended), 2_000);
    for (const session of this.sessions) session.terminate();
    if (this.pinger) clearInterval(this.pinger);
    this.http.closeAllConnections();
    if (this.abandonedHandlers.size > 0) this.log(`${this.abandonedHandlers.size} handler(s) ignored their abort and are abandoned at exit`);
    await this.handlers.close();
  }
}

function settledWithin(promises: Promise<unknown>[], ms: number): Promise<void> {
  if (promises.length === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void Promise.allSettled(promises).then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
