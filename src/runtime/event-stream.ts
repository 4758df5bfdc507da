/**
 * A run's handler events on their way to the client. A handler emits synchronously and cannot be
 * made to wait, so the stream bounds what it queues instead: while the client has more than
 * `budget` bytes unread, further events are dropped and counted, and a warning saying how many
 * goes out once the client catches up. Tokens emitted in one turn travel as one `token` frame
 * (the concatenated text is the same); long texts are split (tokens) or cut (messages) to
 * MAX_EVENT_TEXT. After `close()` nothing more is sent, so a handler that outlives its run can
 * never write into the connection's next run.
 */
import type { ProcessorEvent } from '../sdk/index.js';
import { MAX_EVENT_TEXT } from '../protocol/constants.js';
import type { Outbox } from '../protocol/outbox.js';

export class EventStream {
  private readonly outbox: Outbox;
  private readonly budget: number;
  private pendingToken = '';
  private flushScheduled = false;
  private closed = false;
  private readonly counted: () => void;
  /** Events dropped since the last warning. */
  private unreported = 0;

  /**
   * `counted` is told of each drop as it happens, not when the run ends: a run whose outputs wait
   * for a paused reader has not ended, yet its drops are already a fact the runtime reports.
   */
  constructor(outbox: Outbox, budget: number, counted: () => void) {
    this.outbox = outbox;
    this.budget = budget;
    this.counted = counted;
  }

  readonly emit = (event: ProcessorEvent): void => {
    if (this.closed) return;
    if (event.kind === 'token') {
      this.pendingToken += event.text;
      if (this.pendingToken.length >= MAX_EVENT_TEXT) this.flushToken();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => {
          this.flushScheduled = false;
          this.flushToken();
        });
      }
      return;
    }
    this.flushToken();
    if (event.kind === 'log') this.send({ kind: 'log', level: event.level, message: cut(event.message) });
    else {
      // JSON has no NaN or Infinity; a fraction outside [0, 1] is the handler's slip, not the client's problem.
      const fraction = Number.isFinite(event.fraction) ? Math.min(1, Math.max(0, event.fraction)) : 0;
      this.send(event.message === undefined ? { kind: 'progress', fraction } : { kind: 'progress', fraction, message: cut(event.message) });
    }
  };

  /** Sends what is pending, and the drop warning whatever the queue (it is one small frame); nothing is sent after. */
  close(): void {
    this.flushToken();
    this.reportDrops(true);
    this.closed = true;
  }

  private flushToken(): void {
    if (this.closed || this.pendingToken === '') return;
    const text = this.pendingToken;
    this.pendingToken = '';
    for (const piece of split(text, MAX_EVENT_TEXT)) this.send({ kind: 'token', text: piece });
  }

  private send(frame: ProcessorEvent): void {
    this.reportDrops();
    const text = JSON.stringify(frame);
    if (this.outbox.buffered + Buffer.byteLength(text) > this.budget) {
      this.counted();
      this.unreported++;
      return;
    }
    this.outbox.text(text);
  }

  private reportDrops(force = false): void {
    if (this.unreported === 0 || (!force && this.outbox.buffered > this.budget / 2)) return;
    const message = `${this.unreported} event(s) dropped: the client read more slowly than the processor wrote`;
    this.unreported = 0;
    this.outbox.text(JSON.stringify({ kind: 'log', level: 'warn', message }));
  }
}

/** Pieces of at most `max` UTF-16 units, never splitting a surrogate pair. */
function split(text: string, max: number): string[] {
  const pieces: string[] = [];
  for (let start = 0; start < text.length; ) {
    let end = Math.min(text.length, start + max);
    if (end < text.length && /[\uD800-\uDBFF]/.test(text.charAt(end - 1))) end--;
    pieces.push(text.slice(start, end));
    start = end;
  }
  return pieces;
}

function cut(message: string): string {
  if (message.length <= MAX_EVENT_TEXT) return message;
  const [head = ''] = split(message, MAX_EVENT_TEXT - 64);
  return `${head}… [${message.length - head.length} more characters cut]`;
}
