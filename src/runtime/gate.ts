/**
 * The runtime's concurrency policy: each processor runs at most its registry `concurrency` at a
 * time; further invokes wait, first come first served, in a queue of bounded length; beyond that
 * the caller gets ERR_RUNTIME_BUSY at once. A wait ends early when the invoke is cancelled (the
 * run then reports its cancellation as it would have anyway) or the runtime shuts down.
 */
import { ProcctlError } from '../contracts/errors.js';
import type { Release } from '../adapters/invocation.js';

interface Waiter {
  admit(): void;
  reject(err: ProcctlError): void;
}

interface Lane {
  running: number;
  waiting: Waiter[];
}

export interface Ticket {
  /** Whether the run had to wait for a slot. */
  queued: boolean;
  /** Resolves with the slot's release when the run may start. */
  ready: Promise<Release>;
}

const noop: Release = () => undefined;

export class ConcurrencyGate {
  private readonly lanes = new Map<string, Lane>();
  private readonly queueLimit: number;
  private running = 0;
  /** The most runs that ever held a slot at once, across processors. */
  peakRunning = 0;

  /** `queueLimit`: how many invokes may wait per processor; 0 makes every excess invoke busy. */
  constructor(queueLimit: number) {
    this.queueLimit = queueLimit;
  }

  enter(key: string, limit: number, signal?: AbortSignal): Ticket {
    let lane = this.lanes.get(key);
    if (!lane) this.lanes.set(key, (lane = { running: 0, waiting: [] }));
    const current = lane;
    const release = this.releaser(key, current);
    if (current.running < limit && current.waiting.length === 0) {
      this.take(current);
      return { queued: false, ready: Promise.resolve(release()) };
    }
    if (current.waiting.length >= this.queueLimit) {
      throw new ProcctlError('ERR_RUNTIME_BUSY', `${key} is running ${current.running} of ${limit} allowed at once and ${current.waiting.length} more are queued (the queue holds ${this.queueLimit}); retry later`, { running: current.running, concurrency: limit, queued: current.waiting.length, queue_limit: this.queueLimit });
    }
    if (signal?.aborted) return { queued: true, ready: Promise.resolve(noop) };
    const ready = new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = {
        admit: () => {
          signal?.removeEventListener('abort', onAbort);
          this.take(current);
          resolve(release());
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      const onAbort = () => {
        current.waiting.splice(current.waiting.indexOf(waiter), 1);
        // No slot taken: the run goes on only to report its cancellation.
        resolve(noop);
      };
      current.waiting.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    return { queued: true, ready };
  }

  private take(lane: Lane): void {
    lane.running++;
    this.running++;
    if (this.running > this.peakRunning) this.peakRunning = this.running;
  }

  /** Each grant gets its own release, which frees the slot once however often it is called. */
  private releaser(key: string, lane: Lane): () => Release {
    return () => {
      let released = false;
      return () => {
        if (released) return;
        released = true;
        lane.running--;
        this.running--;
        const next = lane.waiting.shift();
        if (next) next.admit();
        else if (lane.running === 0) this.lanes.delete(key);
      };
    };
  }

  /** Turns every waiting invoke away, e.g. when the runtime shuts down. */
  rejectWaiting(err: ProcctlError): void {
    for (const lane of this.lanes.values()) for (const waiter of lane.waiting.splice(0)) waiter.reject(err);
  }

  counts(): { running: number; queued: number } {
    let running = 0;
    let queued = 0;
    for (const lane of this.lanes.values()) {
      running += lane.running;
      queued += lane.waiting.length;
    }
    return { running, queued };
  }
}
