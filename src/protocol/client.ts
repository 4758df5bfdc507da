/**
 * The control plane's client for a running processor runtime, wherever it runs (a child process,
 * a container, a tunnel to a remote sandbox): a base URL and the bearer token are all it needs.
 * Connections are kept for reuse, so a warm invoke costs frames, not a handshake; idle ones never
 * keep the process alive and close after `idleTimeoutMs`.
 */
import type { Envelope } from '../contracts/envelope.js';
import { ProcctlError } from '../contracts/errors.js';
import type { ArtifactStore } from '../artifacts/store.js';
import { paramsOf, type InvocationArgs } from '../adapters/invocation.js';
import { collectArtifactRefs } from '../artifacts/attachments.js';
import { checkInvocationLimits } from '../contracts/limits.js';
import { checkIJson } from '../contracts/inputs.js';
import type { AdapterOpts } from '../adapters/types.js';
import { runtimeHealth, type RuntimeHealthReport } from './health.js';
import { acceptResult } from './accept-result.js';
import { ClientConnection, isStale, type ConnectionOptions, type InvokeReply } from './client-connection.js';
import { gatherAttachments, type OutgoingAttachments } from './invoke-frame.js';

export interface RuntimeClientOptions {
  /** `http://host:port` of the runtime (`ws://` works too). */
  url: string;
  token: string;
  /** Where output bytes are written, and attachment bytes read from. */
  store: ArtifactStore;
  /** Idle connections kept for reuse (default 64). */
  maxIdleConnections?: number;
  /** An idle connection closes after this long (default 10 s). */
  idleTimeoutMs?: number;
  /** Keepalive while a run is in flight (default 15 s). */
  pingIntervalMs?: number;
  /** Connecting and the WebSocket handshake together (default 10 s). */
  handshakeTimeoutMs?: number;
}

export class RuntimeClient {
  readonly url: string;
  private readonly options: RuntimeClientOptions;
  private readonly connection: ConnectionOptions;
  private readonly idle: { conn: ClientConnection; timer: NodeJS.Timeout }[] = [];
  private closed = false;

  constructor(options: RuntimeClientOptions) {
    if (!/^(https?|wss?):\/\/[^/]+/.test(options.url)) throw new ProcctlError('ERR_USAGE', `runtime URL ${JSON.stringify(options.url)} is not http://host:port`, { url: options.url });
    this.url = options.url.replace(/\/+$/, '');
    this.options = options;
    this.connection = { token: options.token, handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000, pingIntervalMs: options.pingIntervalMs ?? 15_000 };
  }

  /** GET /healthz. Throws ERR_RUNTIME_UNAVAILABLE when nothing answers. */
  health(timeoutMs?: number): Promise<RuntimeHealthReport> {
    return runtimeHealth(this.url, timeoutMs);
  }

  /**
   * Runs one invocation on the runtime and stores its outputs. Returns the runtime's envelope (an
   * error envelope for any failure of the run itself); throws a ProcctlError when there is no
   * result to return: ERR_RUNTIME_UNAVAILABLE, ERR_RUNTIME_AUTH, ERR_RUNTIME_BUSY, ERR_PROTOCOL.
   */
  async invoke(args: InvocationArgs, opts: AdapterOpts = {}): Promise<Envelope> {
    const params = paramsOf(args.inputsJson);
    // The I-JSON rules and the limits every placement applies, before a byte is read or sent
    // (in-process the same checks are the invocation's first steps, so the envelopes match).
    checkIJson(args.inputsJson, 'inputsJson');
    checkInvocationLimits(args.inputsJson, collectArtifactRefs(params));
    const attachments = await gatherAttachments(this.options.store, params);
    const reply = await this.send(args, attachments, opts);
    return acceptResult(this.options.store, args, reply, this.url);
  }

  private async send(args: InvocationArgs, attachments: OutgoingAttachments, opts: AdapterOpts): Promise<InvokeReply> {
    for (;;) {
      const pooled = this.takeIdle();
      const conn = pooled ?? (await ClientConnection.open(this.url, this.connection));
      conn.inUse = true;
      try {
        const reply = await conn.invoke(args, attachments, opts);
        this.putIdle(conn);
        return reply;
      } catch (err) {
        conn.close();
        // A pooled connection the runtime had already let go of: the run never started; retry
        // once on a fresh connection (which a runtime that is really gone will refuse).
        if (pooled && isStale(err)) continue;
        throw err;
      }
    }
  }

  private takeIdle(): ClientConnection | undefined {
    for (let entry = this.idle.pop(); entry; entry = this.idle.pop()) {
      clearTimeout(entry.timer);
      if (entry.conn.reusable) return entry.conn;
      entry.conn.close();
    }
    return undefined;
  }

  private putIdle(conn: ClientConnection): void {
    if (this.closed || !conn.reusable || this.idle.length >= (this.options.maxIdleConnections ?? 64)) {
      conn.close();
      return;
    }
    conn.inUse = false;
    const entry = {
      conn,
      timer: setTimeout(() => {
        const at = this.idle.indexOf(entry);
        if (at !== -1) this.idle.splice(at, 1);
        conn.close();
      }, this.options.idleTimeoutMs ?? 10_000),
    };
    entry.timer.unref();
    this.idle.push(entry);
  }

  /** Closes the idle connections. Runs in flight finish; their connections close after. */
  close(): void {
    this.closed = true;
    for (const entry of this.idle.splice(0)) {
      clearTimeout(entry.timer);
      entry.conn.close();
    }
  }
}
