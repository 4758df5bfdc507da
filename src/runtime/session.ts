/**
 * One client connection to the runtime. It carries one run at a time: an `invoke` frame, the
 * attachment bytes it declares, then (from the runtime) `ack`, events, outputs and the `result`;
 * after the result the connection may carry the next invoke. Any frame the protocol does not allow
 * closes this connection alone, with a protocol close code and a reason. A closed connection stops
 * its run.
 */
import type { Socket } from 'node:net';
import type { RawData, WebSocket } from 'ws';
import type { Envelope } from '../contracts/envelope.js';
import { ProcctlError } from '../contracts/errors.js';
import { rebaseProblem, type JsonProblem } from '../contracts/i-json.js';
import { iJsonError, type InputsV1 } from '../contracts/inputs.js';
import { verifyArtifactBytes, type ArtifactRef } from '../artifacts/attachments.js';
import { contentId } from '../contracts/content-id.js';
import type { OutputPlan } from '../artifacts/outputs.js';
import { failureFor, successFor } from '../adapters/envelope-for.js';
import { executeInvocation, invocationFacts, type InvocationArgs, type Release } from '../adapters/invocation.js';
import type { RegistrySnapshot } from '../registry/registry.js';
import { CLOSE, MAX_CHUNK_BYTES, REMEMBERED_ENTRIES } from '../protocol/constants.js';
import { CLIENT_FRAME_SCHEMAS, decodeFrame, closeReason, type AttachmentDecl, type ClientFrame, type FrameProblem, type InvokeFrame } from '../protocol/frames.js';
import { Outbox } from '../protocol/outbox.js';
import { withCloseReasons } from '../protocol/close-reasons.js';
import type { HandlerPool } from '../execution/handler-pool.js';
import type { ConcurrencyGate } from './gate.js';
import { EventStream } from './event-stream.js';
import type { SnapshotCache } from './snapshots.js';
import type { RunLogRecord } from './server.js';

/** What every session shares: the runtime's settings, limits and bookkeeping. */
export interface SessionHost {
  readonly registryDir: string | undefined;
  readonly env: NodeJS.ProcessEnv;
  /** The warm handler workers every session's runs use. */
  readonly handlers: HandlerPool;
  /** How long a stopped handler may go on before its worker is terminated. */
  readonly stuckGraceMs: number;
  /** Unread bytes a session lets queue for its client before it waits (outputs) or drops (events). */
  readonly bufferBytes: number;
  readonly maxAttachmentBytes: number;
  readonly gate: ConcurrencyGate;
  readonly snapshots: SnapshotCache;
  readonly closing: boolean;
  readonly counters: { completed: number; disconnectedRuns: number; protocolCloses: number; droppedEvents: number };
  /** A handler still running after its run ended (it ignored the abort). */
  abandoned(executionId: string, running: Promise<void>): void;
  /** A run has its envelope (success or error), just before the result goes out. */
  runFinished(record: RunLogRecord): void;
  closed(session: Session): void;
}

interface Receiving {
  frame: InvokeFrame;
  inputsProblem: JsonProblem | undefined;
  snapshot: RegistrySnapshot;
  decls: AttachmentDecl[];
  index: number;
  /** The current attachment's bytes, allocated once at its declared size and filled as chunks arrive (never concatenated). */
  target: Buffer | undefined;
  received: number;
  bytes: Map<string, Buffer>;
}

export class Session {
  private readonly ws: WebSocket;
  private readonly host: SessionHost;
  readonly outbox: Outbox;
  private state: 'idle' | 'receiving' | 'running' = 'idle';
  private receiving: Receiving | undefined;
  private controller: AbortController | undefined;
  private executionId: string | undefined;
  private readonly entries = new Map<string, RegistrySnapshot>();
  /** Set by a ping, cleared by the pong: a session still unanswered at the next ping is dead. */
  awaitingPong = false;
  /** The current run, for a shutdown to wait on. */
  run: Promise<void> | undefined;
  /** Resolves when the connection has closed (after the closing handshake, or when the socket went). */
  readonly ended: Promise<void>;

  constructor(ws: WebSocket, socket: Socket, host: SessionHost) {
    this.ws = ws;
    this.host = host;
    this.outbox = new Outbox(ws, socket);
    withCloseReasons(ws);
    // binaryType is the default 'nodebuffer': every message arrives as one Buffer.
    ws.on('message', (data: RawData, isBinary: boolean) => this.guarded(() => this.onMessage(data as Buffer, isBinary)));
    ws.on('pong', () => (this.awaitingPong = false));
    // The WebSocket layer closes the connection itself for frames it refuses (1009 too big, 1007
    // not UTF-8, bad framing); 'close' follows.
    ws.on('error', () => host.counters.protocolCloses++);
    this.ended = new Promise((resolve) => ws.on('close', () => resolve()));
    ws.on('close', () => this.onClose());
  }

  get idle(): boolean {
    return this.state === 'idle';
  }

  /** Keepalive: pings, or ends a connection whose previous ping went unanswered. */
  keepalive(): void {
    if (this.awaitingPong) {
      this.ws.terminate();
      return;
    }
    this.awaitingPong = true;
    this.ws.ping();
  }

  close(code: number, reason: string): void {
    this.ws.close(code, closeReason(reason));
  }

  /** Drops the connection without a closing handshake (a peer that will not finish one). */
  terminate(): void {
    this.ws.terminate();
  }

  /** For a shutdown past its drain time: the run ends as cancelled, with the reason in its envelope. */
  cancelRun(why: string): void {
    this.controller?.abort(new ProcctlError('ERR_CANCELLED', `execution ${this.executionId} was cancelled: ${why}`));
  }

  /**
   * Last line of defence: nothing a client sends may end the runtime. A throw that escaped the
   * checks (a bug) closes this connection alone, as an internal error, and stops its run.
   */
  private guarded(work: () => void): void {
    try {
      work();
    } catch {
      this.host.counters.protocolCloses++;
      this.close(CLOSE.INTERNAL, 'the runtime failed on this frame; the connection is closed');
      this.stop('the runtime failed on a frame');
    }
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (isBinary) return this.onBinary(data);
    if (this.state === 'receiving') {
      const due = this.receiving ? this.receiving.decls.slice(this.receiving.index).reduce((n, d) => n + d.size_bytes, 0) - this.receiving.received : 0;
      return this.refuse({ code: CLOSE.OUT_OF_ORDER, reason: `text frame while ${due} attachment byte(s) are still due` });
    }
    const decoded = decodeFrame<ClientFrame>(data.toString('utf8'), CLIENT_FRAME_SCHEMAS);
    if (decoded.problem) return this.refuse(decoded.problem);
    const frame = decoded.frame;
    if (frame.kind === 'cancel') {
      // With no run, a cancel has crossed the result on the wire: nothing to do.
      this.controller?.abort();
      return;
    }
    if (this.state === 'running') return this.refuse({ code: CLOSE.OUT_OF_ORDER, reason: `invoke while execution ${this.executionId} is running; one run per connection at a time` });
    this.accept(frame, decoded.inputsProblem);
  }

  private accept(frame: InvokeFrame, inputsProblem: JsonProblem | undefined): void {
    const snapshot = this.snapshotOf(frame);
    if (!snapshot) return;
    const decls = frame.attachments ?? [];
    const seen = new Set<string>();
    let total = 0;
    for (const decl of decls) {
      if (seen.has(decl.cid)) return this.refuse({ code: CLOSE.INVALID_FRAME, reason: `invoke frame declares attachment ${decl.cid} twice` });
      seen.add(decl.cid);
      total += decl.size_bytes;
    }
    if (total > this.host.maxAttachmentBytes) return this.refuse({ code: CLOSE.TOO_BIG, reason: `attachments total ${total} bytes; this runtime takes at most ${this.host.maxAttachmentBytes}` });
    this.state = 'receiving';
    this.executionId = frame.execution_id;
    this.receiving = { frame, inputsProblem, snapshot, decls, index: 0, target: undefined, received: 0, bytes: new Map() };
    this.advance();
  }

  /**
   * The invoke's registry snapshot: as sent, or — when the entry is left out — the one this
   * connection carried in full under the same entry_cid. (Checked later, when the run starts.)
   */
  private snapshotOf(frame: InvokeFrame): RegistrySnapshot | undefined {
    const sent = frame.registry_snapshot;
    if ('entry' in sent) {
      if (!this.entries.has(sent.entry_cid) && this.entries.size >= REMEMBERED_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
      this.entries.set(sent.entry_cid, sent);
      return sent;
    }
    const known = this.entries.get(sent.entry_cid);
    if (!known) this.refuse({ code: CLOSE.INVALID_FRAME, reason: `registry_snapshot has no entry, and entry_cid ${sent.entry_cid.slice(0, 19)}… was not sent on this connection` });
    return known;
  }

  private onBinary(data: Buffer): void {
    const r = this.receiving;
    if (this.state !== 'receiving' || !r) return this.refuse({ code: CLOSE.UNEXPECTED_BINARY, reason: 'binary frame where a text frame is due' });
    if (data.byteLength > MAX_CHUNK_BYTES) return this.refuse({ code: CLOSE.TOO_BIG, reason: `binary frame of ${data.byteLength} bytes; chunks are at most ${MAX_CHUNK_BYTES}` });
    const decl = r.decls[r.index] as AttachmentDecl;
    if (r.received + data.byteLength > decl.size_bytes) return this.refuse({ code: CLOSE.INVALID_FRAME, reason: `attachment ${r.index} (${decl.cid.slice(0, 19)}…) got more than its ${decl.size_bytes} bytes` });
    // Held once: each chunk is copied into place and dropped, so a 200 MB attachment costs 200 MB.
    // In shared memory, so the handler's thread reads these very bytes, not a copy of them.
    r.target ??= Buffer.from(new SharedArrayBuffer(decl.size_bytes));
    data.copy(r.target, r.received);
    r.received += data.byteLength;
    if (r.received === decl.size_bytes) {
      r.bytes.set(decl.cid, r.target);
      r.target = undefined;
      r.received = 0;
      r.index++;
      this.advance();
    }
  }

  /** Skips empty attachments; once every byte is in, the run starts. */
  private advance(): void {
    const r = this.receiving as Receiving;
    while (r.index < r.decls.length && (r.decls[r.index] as AttachmentDecl).size_bytes === 0) {
      r.bytes.set((r.decls[r.index] as AttachmentDecl).cid, Buffer.alloc(0));
      r.index++;
    }
    if (r.index < r.decls.length) return;
    this.receiving = undefined;
    this.state = 'running';
    const controller = new AbortController();
    this.controller = controller;
    this.run = this.execute(r.frame, r.inputsProblem, r.snapshot, r.bytes, controller.signal)
      .catch(() => {
        // execute turns every failure into the run's envelope; a throw past that (a bug) must not
        // end the runtime: this connection closes as an internal error, the others go on.
        this.close(CLOSE.INTERNAL, 'the runtime failed this run; the connection is closed');
      })
      .finally(() => {
        this.run = undefined;
        this.controller = undefined;
        this.executionId = undefined;
        this.state = 'idle';
        if (this.host.closing) this.close(CLOSE.GOING_AWAY, 'runtime shutting down');
      });
  }

  private async execute(frame: InvokeFrame, inputsProblem: JsonProblem | undefined, sentSnapshot: RegistrySnapshot, attachments: Map<string, Buffer>, signal: AbortSignal): Promise<void> {
    const args: InvocationArgs = {
      processorRef: frame.ref,
      inputsJson: frame.inputs as unknown as InputsV1,
      writePrefix: frame.write_prefix,
      executionId: frame.execution_id,
      registrySnapshot: sentSnapshot,
      secretsPresent: frame.secrets_present ?? [],
    };
    const started = performance.now();
    const facts = invocationFacts(args);
    delete facts.snapshot; // not trusted until verified
    // Attachments a handler of this run has read (their bytes checked then): see attachmentBytes.
    const readBefore = new Set<string>();
    const events = new EventStream(this.outbox, this.host.bufferBytes, () => this.host.counters.droppedEvents++);
    let handler: { running: Promise<void>; settled: boolean } | undefined;
    let envelope: Envelope;
    try {
      if (this.host.closing) throw new ProcctlError('ERR_RUNTIME_UNAVAILABLE', 'the processor runtime is shutting down and takes no new runs; retry on another');
      args.registrySnapshot = facts.snapshot = this.host.snapshots.verify(sentSnapshot);
      // A repeated member name in the inputs, which only the frame's text showed.
      if (inputsProblem) throw iJsonError(rebaseProblem(inputsProblem, '/inputs'), 'inputsJson');
      const plan = await executeInvocation(args, facts, {
        registryDir: this.host.registryDir,
        env: this.host.env,
        pool: this.host.handlers,
        abortGraceMs: this.host.stuckGraceMs,
        signal,
        ...(frame.timeout_s !== undefined && { timeoutS: frame.timeout_s }),
        onEvent: events.emit,
        readAttachment: (ref) => Promise.resolve(attachmentBytes(attachments, ref, readBefore)),
        admit: (snapshot) => this.admit(snapshot, frame.execution_id, signal),
        onHandlerStarted: (running) => {
          const tracked = { running, settled: false };
          const settle = () => (tracked.settled = true);
          running.then(settle, settle);
          handler = tracked;
        },
      });
      events.close();
      if (!(await this.sendOutputs(plan))) return;
      envelope = successFor(facts, plan);
    } catch (err) {
      events.close();
      envelope = failureFor(facts, err);
    } finally {
      if (handler && !handler.settled) this.host.abandoned(frame.execution_id, handler.running);
    }
    this.host.runFinished({
      execution_id: frame.execution_id,
      ref: frame.ref,
      mode: facts.mode,
      status: envelope.status,
      ...(envelope.status === 'error' && { code: envelope.error.code }),
      duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
    });
    if (!this.outbox.open) return;
    this.outbox.text(JSON.stringify({ kind: 'result', envelope }));
    this.outbox.flush();
    this.host.counters.completed++;
  }

  private async admit(snapshot: RegistrySnapshot, executionId: string, signal: AbortSignal): Promise<Release> {
    const ticket = this.host.gate.enter(snapshot.ref, snapshot.entry.runtime.concurrency, signal);
    const ack = JSON.stringify({ kind: 'ack', execution_id: executionId, queued: ticket.queued });
    // A queued run's client hears so at once; an admitted one's ack travels with what follows.
    if (ticket.queued) this.outbox.text(ack);
    else this.outbox.lingering(ack);
    return ticket.ready;
  }

  /** Each output: its `output` frame, then its bytes; false when the client went away meanwhile. */
  private async sendOutputs(plan: OutputPlan): Promise<boolean> {
    for (const output of plan.outputs) {
      if (!(await this.outbox.below(this.host.bufferBytes))) return false;
      this.outbox.text(JSON.stringify({ kind: 'output', path: output.path, cid: output.cid, size_bytes: output.size_bytes, mime: output.mime }));
      if (!(await this.outbox.stream(output.bytes, this.host.bufferBytes))) return false;
    }
    return true;
  }

  private refuse(problem: FrameProblem): void {
    this.host.counters.protocolCloses++;
    this.close(problem.code, problem.reason);
    this.stop('the connection broke the protocol');
  }

  private stop(why: string): void {
    if (!this.controller || this.controller.signal.aborted) return;
    this.host.counters.disconnectedRuns++;
    this.cancelRun(why);
  }

  private onClose(): void {
    this.receiving = undefined;
    this.stop('the client connection closed');
    this.host.closed(this);
  }
}

/**
 * Attachment bytes as the invoke sent them, proven against the reference's content id. Shared
 * with the handler's thread, not copied (handler-pool.ts), so they are checked on every read: a
 * handler that changed bytes it read gets ERR_ATTACHMENT saying so, never the altered bytes.
 */
function attachmentBytes(attachments: Map<string, Buffer>, ref: ArtifactRef, readBefore: Set<string>): Uint8Array {
  const bytes = attachments.get(ref.cid);
  if (!bytes) throw new ProcctlError('ERR_ATTACHMENT', `artifact ${ref.$artifact} (${ref.cid}) was not sent with the invoke`, { key: ref.$artifact, cid: ref.cid });
  if (!readBefore.has(ref.cid)) {
    readBefore.add(ref.cid);
    return verifyArtifactBytes(ref, bytes);
  }
  if (contentId(bytes) !== ref.cid) {
    throw new ProcctlError('ERR_ATTACHMENT', `artifact ${ref.$artifact} changed after the handler read it: attachment bytes are read-only (copy them to change them)`, { key: ref.$artifact, cid: ref.cid });
  }
  return bytes;
}
