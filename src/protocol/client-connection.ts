/**
 * One client connection to a runtime: the handshake (bearer token, subprotocol) and then runs, one
 * at a time. It holds the runtime to the protocol as strictly as the runtime holds the client: a
 * frame out of order, an output whose bytes do not match its content id, an envelope for another
 * execution — each closes the connection and fails the invoke with ERR_PROTOCOL.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocket, type RawData } from 'ws';
import { contentId } from '../contracts/content-id.js';
import type { Envelope, OutputRecord } from '../contracts/envelope.js';
import { isErrorCode, ProcctlError, type ErrorCode } from '../contracts/errors.js';
import { ENVELOPE_V1_SCHEMA } from '../contracts/schemas.js';
import { formatProblems, validateAgainst } from '../contracts/validator.js';
import type { InvocationArgs } from '../adapters/invocation.js';
import type { AdapterOpts } from '../adapters/types.js';
import type { ProcessorEvent } from '../sdk/index.js';
import { CLOSE, MAX_CHUNK_BYTES, MAX_FRAME_BYTES, PROTOCOL_CLOSE_CODES, REMEMBERED_ENTRIES, RUN_PATH, SUBPROTOCOL } from './constants.js';
import { closeReason, decodeFrame, SERVER_FRAME_SCHEMAS, type FrameProblem, type ServerFrame } from './frames.js';
import { invokeFrameText, type OutgoingAttachments } from './invoke-frame.js';
import { Outbox } from './outbox.js';
import { withCloseReasons } from './close-reasons.js';

/** Attachment bytes wait for the runtime to read once this much is queued. */
const SEND_HIGH_WATER = 1024 * 1024;

export interface ConnectionOptions {
  token: string;
  handshakeTimeoutMs: number;
  /** While a run is in flight, a ping this often; a ping still unanswered at the next one ends the connection. */
  pingIntervalMs: number;
}

export interface ReceivedOutput extends OutputRecord {
  bytes: Buffer;
}

export interface InvokeReply {
  envelope: Envelope;
  outputs: ReceivedOutput[];
}

interface Pending {
  executionId: string;
  opts: AdapterOpts;
  resolve(reply: InvokeReply): void;
  reject(err: ProcctlError): void;
  /** Whether any frame of the reply arrived (a connection that died before one may be retried). */
  heard: boolean;
  outputs: ReceivedOutput[];
  receiving: { record: OutputRecord; chunks: Buffer[]; received: number } | undefined;
}

export class ClientConnection {
  readonly url: string;
  private readonly ws: WebSocket;
  private readonly socket: Socket;
  private readonly outbox: Outbox;
  private readonly options: ConnectionOptions;
  private pending: Pending | undefined;
  private broken: ProcctlError | undefined;
  private awaitingPong = false;
  /** Registry entries this connection has carried in full; later invokes name them by entry_cid. */
  private readonly sentEntries = new Set<string>();

  private constructor(url: string, ws: WebSocket, socket: Socket, options: ConnectionOptions) {
    this.url = url;
    this.ws = ws;
    this.socket = socket;
    this.options = options;
    this.outbox = new Outbox(ws, socket);
    withCloseReasons(ws);
    ws.on('message', (data: RawData, isBinary: boolean) => this.onMessage(data as Buffer, isBinary));
    ws.on('pong', () => (this.awaitingPong = false));
    ws.on('error', () => undefined); // 'close' follows and says what happened
    ws.on('close', (code: number, reason: Buffer) => this.onClose(code, reason.toString('utf8')));
  }

  /** Opens `/run` on the runtime at `baseUrl` (`http://host:port` or `ws://host:port`). */
  static open(baseUrl: string, options: ConnectionOptions): Promise<ClientConnection> {
    const url = `${baseUrl.replace(/^http/, 'ws').replace(/\/+$/, '')}${RUN_PATH}`;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, SUBPROTOCOL, {
        headers: { authorization: `Bearer ${options.token}` },
        perMessageDeflate: false,
        maxPayload: MAX_FRAME_BYTES,
        handshakeTimeout: options.handshakeTimeoutMs,
      });
      let socket: Socket | undefined;
      let settled = false;
      const fail = (err: ProcctlError) => {
        if (settled) return;
        settled = true;
        reject(err);
      };
      ws.once('upgrade', (res: IncomingMessage) => (socket = res.socket as Socket));
      ws.once('open', () => {
        settled = true;
        resolve(new ClientConnection(url, ws, socket as Socket, options));
      });
      ws.once('unexpected-response', (req, res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          fail(refusalError(url, res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
          ws.terminate();
        });
      });
      ws.on('error', (err: NodeJS.ErrnoException) => fail(connectError(url, err)));
    });
  }

  /** Counts entries exactly as the runtime does (constants.ts), so a reference is never to one it forgot. */
  private remember(entryCid: string): void {
    if (this.sentEntries.has(entryCid)) return;
    if (this.sentEntries.size >= REMEMBERED_ENTRIES) this.sentEntries.delete(this.sentEntries.values().next().value as string);
    this.sentEntries.add(entryCid);
  }

  /** Open, not mid-run, never broken: fit to carry the next invoke. */
  get reusable(): boolean {
    return this.pending === undefined && this.broken === undefined && this.outbox.open;
  }

  /** An idle pooled connection must not keep the process alive; a busy one must. */
  set inUse(value: boolean) {
    if (value) this.socket.ref();
    else this.socket.unref();
  }

  close(): void {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(CLOSE.NORMAL, 'done');
  }

  /**
   * Sends the invoke frame and the attachment bytes, relays events, collects output bytes (each
   * checked against its content id) and resolves with the result. Rejects with a ProcctlError
   * when the connection fails or the runtime breaks the protocol; `isStale(err)` says the runtime
   * never heard of the run, so it may be retried on a fresh connection.
   */
  invoke(args: InvocationArgs, attachments: OutgoingAttachments, opts: AdapterOpts): Promise<InvokeReply> {
    const executionId = args.executionId;
    const entryCid = args.registrySnapshot.entry_cid;
    const frame = invokeFrameText(args, attachments.decls, opts.timeoutS, !this.sentEntries.has(entryCid));
    if (!this.reusable) return Promise.reject(this.broken ?? new ProcctlError('ERR_RUNTIME_UNAVAILABLE', `the connection to ${this.url} is not open`));
    return new Promise<InvokeReply>((resolve, reject) => {
      let sending = true;
      let cancelWanted = false;
      const sendCancel = () => {
        if (sending) cancelWanted = true;
        else this.outbox.text('{"kind":"cancel"}');
      };
      const pinger = setInterval(() => {
        if (this.awaitingPong) {
          this.broken = new ProcctlError('ERR_RUNTIME_UNAVAILABLE', `the processor runtime at ${this.url} stopped answering keepalive pings during execution ${executionId}`, { url: this.url });
          this.ws.terminate();
          return;
        }
        this.awaitingPong = true;
        this.ws.ping();
      }, this.options.pingIntervalMs);
      const done = () => {
        clearInterval(pinger);
        opts.signal?.removeEventListener('abort', sendCancel);
        this.pending = undefined;
      };
      this.pending = {
        executionId,
        opts,
        heard: false,
        outputs: [],
        receiving: undefined,
        resolve: (reply) => {
          done();
          resolve(reply);
        },
        reject: (err) => {
          done();
          reject(err);
        },
      };
      if (opts.signal?.aborted) cancelWanted = true;
      else opts.signal?.addEventListener('abort', sendCancel, { once: true });
      this.outbox.text(frame);
      if (attachments.bytes.length === 0) this.outbox.flush(); // nothing else to send with it
      this.remember(entryCid);
      void (async () => {
        for (const bytes of attachments.bytes) if (!(await this.outbox.stream(bytes, SEND_HIGH_WATER))) return;
        sending = false;
        if (cancelWanted) sendCancel();
      })();
    });
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    const p = this.pending;
    if (!p) return this.violation({ code: isBinary ? CLOSE.UNEXPECTED_BINARY : CLOSE.OUT_OF_ORDER, reason: 'frame while no run is in flight' });
    p.heard = true;
    if (isBinary) return this.onBytes(p, data);
    if (p.receiving) return this.violation({ code: CLOSE.OUT_OF_ORDER, reason: `text frame while bytes of ${p.receiving.record.path} are due` });
    const decoded = decodeFrame<ServerFrame>(data.toString('utf8'), SERVER_FRAME_SCHEMAS);
    if (decoded.problem) return this.violation(decoded.problem);
    const frame = decoded.frame;
    switch (frame.kind) {
      case 'ack':
        if (frame.execution_id !== p.executionId) return this.violation({ code: CLOSE.INVALID_FRAME, reason: `ack for execution ${frame.execution_id}, not ${p.executionId}` });
        return;
      case 'log':
      case 'token':
      case 'progress':
        try {
          p.opts.onEvent?.(eventOf(frame));
        } catch {
          // A caller's event sink that throws must not take the connection down with it.
        }
        return;
      case 'output': {
        const record = { path: frame.path, cid: frame.cid, size_bytes: frame.size_bytes, mime: frame.mime };
        p.receiving = { record, chunks: [], received: 0 };
        if (record.size_bytes === 0) this.finishOutput(p);
        return;
      }
      case 'result': {
        const problems = validateAgainst(ENVELOPE_V1_SCHEMA, frame.envelope);
        if (problems.length > 0) return this.violation({ code: CLOSE.INVALID_FRAME, reason: `result envelope: ${formatProblems(problems, '')}` });
        return p.resolve({ envelope: frame.envelope, outputs: p.outputs });
      }
    }
  }

  private onBytes(p: Pending, data: Buffer): void {
    const r = p.receiving;
    if (!r) return this.violation({ code: CLOSE.UNEXPECTED_BINARY, reason: 'binary frame where a text frame is due' });
    if (data.byteLength > MAX_CHUNK_BYTES) return this.violation({ code: CLOSE.TOO_BIG, reason: `binary frame of ${data.byteLength} bytes; chunks are at most ${MAX_CHUNK_BYTES}` });
    r.chunks.push(data);
    r.received += data.byteLength;
    if (r.received > r.record.size_bytes) return this.violation({ code: CLOSE.INVALID_FRAME, reason: `output ${r.record.path} got more than its ${r.record.size_bytes} bytes` });
    if (r.received === r.record.size_bytes) this.finishOutput(p);
  }

  private finishOutput(p: Pending): void {
    const r = p.receiving as NonNullable<Pending['receiving']>;
    p.receiving = undefined;
    const bytes = r.chunks.length === 1 ? (r.chunks[0] as Buffer) : Buffer.concat(r.chunks, r.received);
    if (contentId(bytes) !== r.record.cid) return this.violation({ code: CLOSE.INVALID_FRAME, reason: `output ${r.record.path} bytes do not match its cid` });
    p.outputs.push({ ...r.record, bytes });
  }

  private violation(problem: FrameProblem): void {
    this.broken = new ProcctlError('ERR_PROTOCOL', `the processor runtime at ${this.url} broke the protocol: ${problem.reason}`, { url: this.url, close_code: problem.code });
    this.ws.close(problem.code, closeReason(problem.reason));
    this.pending?.reject(this.broken);
  }

  private onClose(code: number, reason: string): void {
    const p = this.pending;
    if (!p) return;
    const said = reason ? `${code} ${reason}` : `${code}`;
    let err: ProcctlError;
    if (this.broken) err = this.broken;
    else if (PROTOCOL_CLOSE_CODES.has(code)) err = new ProcctlError('ERR_PROTOCOL', `the processor runtime at ${this.url} refused a frame and closed the connection (${said})`, { url: this.url, close_code: code, reason });
    else if (code === CLOSE.GOING_AWAY) err = new ProcctlError('ERR_RUNTIME_UNAVAILABLE', `the processor runtime at ${this.url} is shutting down (${said})`, { url: this.url, close_code: code });
    else err = new ProcctlError('ERR_RUNTIME_UNAVAILABLE', `the connection to the processor runtime at ${this.url} closed before the result of execution ${p.executionId} (${said})`, { url: this.url, close_code: code });
    if (!p.heard) staleErrors.add(err);
    this.broken = err;
    p.reject(err);
  }
}

const staleErrors = new WeakSet<object>();

/** Whether a failed invoke never reached the runtime (nothing was heard back before the close). */
export function isStale(err: unknown): boolean {
  return typeof err === 'object' && err !== null && staleErrors.has(err);
}

function eventOf(frame: ProcessorEvent): ProcessorEvent {
  // Only the fields the SDK defines: a frame's unknown extra fields are not passed on.
  if (frame.kind === 'log') return { kind: 'log', level: frame.level, message: frame.message };
  if (frame.kind === 'token') return { kind: 'token', text: frame.text };
  return frame.message === undefined ? { kind: 'progress', fraction: frame.fraction } : { kind: 'progress', fraction: frame.fraction, message: frame.message };
}

function refusalError(url: string, status: number, body: string): ProcctlError {
  let code: ErrorCode | undefined;
  let message = body.slice(0, 300);
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    if (isErrorCode(parsed.error?.code)) code = parsed.error.code;
    if (typeof parsed.error?.message === 'string') message = parsed.error.message;
  } catch {
    // not JSON: keep the text
  }
  code ??= status === 401 ? 'ERR_RUNTIME_AUTH' : status === 503 ? 'ERR_RUNTIME_UNAVAILABLE' : 'ERR_PROTOCOL';
  return new ProcctlError(code, `the processor runtime at ${url} refused the connection (HTTP ${status}): ${message}`, { url, status });
}

function connectError(url: string, err: NodeJS.ErrnoException): ProcctlError {
  if (/subprotocol/i.test(err.message)) return new ProcctlError('ERR_PROTOCOL', `the server at ${url} does not speak ${SUBPROTOCOL}: ${err.message}`, { url });
  return new ProcctlError('ERR_RUNTIME_UNAVAILABLE', `cannot connect to the processor runtime at ${url}: ${err.code ?? err.message}`, { url, reason: err.code ?? err.message });
}
