/**
 * Frames out of one WebSocket, for either side. Frames sent in one turn of the event loop leave in
 * one write: the socket is corked until the turn ends, so a run's ack, events, outputs and result
 * cost one system call, not one each. Byte streams are sent in chunks and wait for the peer to
 * read, so a slow peer never makes this side hold more than a bounded amount.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { MAX_CHUNK_BYTES } from './constants.js';

/**
 * How long a frame that need not leave at once (an `ack`) may wait for company. A quick run's ack,
 * events, outputs and result then leave in one write, which wakes the client once, not twice.
 */
const LINGER_MS = 5;

export class Outbox {
  private readonly ws: WebSocket;
  private readonly socket: Socket;
  private corked = false;
  /** A flush at the end of this turn is scheduled. */
  private flushDue = false;
  private linger: NodeJS.Timeout | undefined;
  /** Whether a byte stream is waiting for the peer to read: what a slow reader looks like. */
  waiting = false;
  /** The most this side has had queued for the peer at once; what the back-pressure tests read. */
  maxBuffered = 0;

  constructor(ws: WebSocket, socket: Socket) {
    this.ws = ws;
    this.socket = socket;
  }

  /** Bytes queued for the peer and not yet handed to the kernel. */
  get buffered(): number {
    return this.ws.bufferedAmount;
  }

  get open(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  private cork(soon: boolean): void {
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
    }
    if (soon && !this.flushDue) {
      this.flushDue = true;
      // setImmediate rather than nextTick: a run spans many promise turns, and nextTick would
      // flush after the first of them.
      setImmediate(this.uncork);
    } else if (!soon && !this.flushDue && !this.linger) {
      this.linger = setTimeout(this.uncork, LINGER_MS);
    }
  }

  private readonly uncork = (): void => {
    this.flushDue = false;
    clearTimeout(this.linger);
    this.linger = undefined;
    if (!this.corked) return;
    this.corked = false;
    this.socket.uncork();
  };

  /** Writes what is queued now: the last frame of a burst need not wait for the turn to end. */
  flush(): void {
    this.uncork();
  }

  private sent(): void {
    const buffered = this.ws.bufferedAmount;
    if (buffered > this.maxBuffered) this.maxBuffered = buffered;
  }

  text(frame: string): void {
    this.queueText(frame, true);
  }

  /** A frame that may wait up to LINGER_MS for the next one, to leave in the same write. */
  lingering(frame: string): void {
    this.queueText(frame, false);
  }

  private queueText(frame: string, soon: boolean): void {
    if (!this.open) return;
    this.cork(soon);
    this.ws.send(frame);
    this.sent();
  }

  binary(bytes: Uint8Array): void {
    if (!this.open) return;
    this.cork(true);
    this.ws.send(bytes, { binary: true });
    this.sent();
  }

  /** Resolves once at most `limit` bytes are queued; false if the connection closed first. */
  async below(limit: number): Promise<boolean> {
    while (this.open && this.ws.bufferedAmount > limit) {
      this.waiting = true;
      await new Promise<void>((resolve) => {
        const done = () => {
          this.socket.off('drain', done);
          this.ws.off('close', done);
          resolve();
        };
        this.socket.on('drain', done);
        this.ws.on('close', done);
      });
      this.waiting = false;
    }
    return this.open;
  }

  /** Sends bytes as binary frames of at most MAX_CHUNK_BYTES, each only once the queue is below `highWater`. */
  async stream(bytes: Uint8Array, highWater: number): Promise<boolean> {
    for (let offset = 0; offset < bytes.byteLength; offset += MAX_CHUNK_BYTES) {
      if (!(await this.below(highWater))) return false;
      this.binary(bytes.subarray(offset, offset + MAX_CHUNK_BYTES));
    }
    return this.open;
  }
}
