/**
 * Handler threads as the control thread sees them. Every placement that runs handler code runs it
 * in a worker thread, so a handler that never yields (a CPU-bound loop, `while (true) {}`) can be
 * stopped: the control thread keeps its own event loop, answers the timeout or cancel on time, and
 * terminates the thread.
 *
 * Threads are warm and shared. Each loads one processor's module and hosts several of its runs at
 * once, as any Node server hosts concurrent requests; a processor gets at most one thread per
 * CPU (or its `concurrency`, if lower). More threads than cores only add wake-ups and cold JIT:
 * with one thread per run, 64 runs in flight on 2 cores cost about 70 % of the runtime's
 * throughput. The price of sharing: a run whose handler must be terminated (it ignored its abort
 * past the grace) takes the runs of the same processor on that thread with it; they end as
 * `ERR_CANCELLED` (retryable), saying why. A terminated or crashed thread is replaced on demand.
 * An idle thread never keeps the process alive.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ProcctlError } from '../contracts/errors.js';
import type { ArtifactRef } from '../artifacts/attachments.js';
import type { ProcessorEvent } from '../sdk/index.js';
import { handlerFile } from './load-processor.js';
import { fromWire, toWire, type FromWorker, type RunSpec, type ToWorker, type WorkerData } from './worker-messages.js';

const WORKER_FILE = new URL('./handler-worker.js', import.meta.url);

export interface RunHooks {
  onEvent(event: ProcessorEvent): void;
  onOutput(path: string, bytes: Uint8Array, mime: string | undefined): void;
  readAttachment(ref: ArtifactRef): Promise<Uint8Array>;
}

/** A run on a thread: settles when its handler returns or throws, or its thread ends. */
export interface HostedRun {
  readonly done: Promise<void>;
  /** Passes a stop on to the handler's `ctx.signal`; nobody waits for the run any more. */
  abort(reason: ProcctlError): void;
}

interface RunState {
  executionId: string;
  hooks: RunHooks;
  resolve(): void;
  reject(err: ProcctlError): void;
  /** Stopped (timed out, cancelled) while its handler still ran: nobody awaits it any more. */
  stopped: boolean;
}

/** One worker thread, the processor module it loaded, and the runs it is doing. */
export class HandlerThread {
  private readonly worker: Worker;
  /** Resolves once the thread has ended, however it ended. */
  readonly exited: Promise<void>;
  /** Runs placed here by the pool and not yet released: what it balances threads by. */
  reserved = 0;
  private readonly runs = new Map<number, RunState>();
  private nextRun = 0;
  private loading: { resolve(): void; reject(err: ProcctlError): void } | undefined;
  /** How many things (a load, runs not stopped) wait on the thread: while any do, it is referenced. */
  private waiters = 0;
  /** Stopped runs whose handlers have not ended yet. */
  private stopping = 0;
  private ended: ProcctlError | undefined;
  /** Set by `terminate`: the error each co-hosted run gets instead of the thread's exit. */
  private endingFor: ((executionId: string) => ProcctlError) | undefined;

  constructor(env: NodeJS.ProcessEnv) {
    const workerData: WorkerData = { env: { ...env } };
    this.worker = new Worker(WORKER_FILE, { workerData, stdout: false, stderr: false });
    this.worker.on('message', (message: FromWorker) => this.onMessage(message));
    // A handler's stray callback that throws, process.exit() in a handler, running out of memory:
    // the thread ends; the runs it was doing fail, and the pool never hands it out again.
    this.worker.on('error', (err: Error) => this.end(`it threw outside the handler: ${err.message}`));
    this.exited = new Promise((resolve) => this.worker.once('exit', (code) => {
      this.end(`its worker thread exited with code ${code}`);
      resolve();
    }));
    // After the listeners: adding one may take the thread's reference again.
    this.worker.unref();
  }

  get alive(): boolean {
    return this.ended === undefined;
  }

  /**
   * Fit for new runs: alive, and not hosting a stopped handler that has yet to end. Such a
   * handler may never yield, and a run placed beside it would wait for it and then be cancelled
   * with it when the thread is ended.
   */
  get usable(): boolean {
    return this.alive && this.stopping === 0;
  }

  private end(why: string): void {
    if (this.ended) return;
    // ERR_INTERNAL, so a run turns it into "<ref> failed: …" as it does any uncoded failure.
    this.ended = new ProcctlError('ERR_INTERNAL', why);
    this.loading?.reject(this.ended);
    this.loading = undefined;
    for (const run of this.runs.values()) run.reject(this.endingFor?.(run.executionId) ?? this.ended);
    this.runs.clear();
  }

  private wait(): void {
    if (this.waiters++ === 0) this.worker.ref();
  }

  private unwait(): void {
    if (--this.waiters === 0) this.worker.unref();
  }

  private send(message: ToWorker, transfer?: ArrayBuffer[]): void {
    if (this.alive) this.worker.postMessage(message, transfer);
  }

  /** Imports the processor module in the thread (resolved and checked by loadProcessor there). */
  load(slug: string, registryDir: string | undefined): Promise<void> {
    if (this.ended) return Promise.reject(this.ended);
    this.wait();
    return new Promise<void>((resolve, reject) => {
      this.loading = { resolve, reject };
      this.send({ kind: 'load', slug, ...(registryDir !== undefined && { registryDir }) });
    }).finally(() => this.unwait());
  }

  /** Starts the loaded handler on a run; `done` rejects with its error (as a ProcctlError). */
  run(spec: RunSpec, hooks: RunHooks): HostedRun {
    const id = this.nextRun++;
    let state!: RunState;
    const done = this.ended
      ? Promise.reject(this.ended)
      : new Promise<void>((resolve, reject) => {
          state = { executionId: spec.executionId, hooks, resolve, reject, stopped: false };
          this.runs.set(id, state);
          this.wait();
          this.send({ kind: 'run', run: id, spec });
        }).finally(() => this.forget(id, state));
    return {
      done,
      abort: (reason) => {
        if (!this.runs.has(id)) return;
        this.send({ kind: 'abort', run: id, reason: toWire(reason) });
        if (state.stopped) return;
        state.stopped = true;
        this.stopping++;
        // Nobody waits for it any more: a CLI exits with its envelope, grace or not.
        this.unwait();
      },
    };
  }

  private forget(id: number, state: RunState | undefined): void {
    this.runs.delete(id);
    if (!state) return; // the thread had ended before the run could start
    if (state.stopped) this.stopping--;
    else this.unwait();
  }

  /**
   * Ends the thread. `cohosted` says, per execution, why a run still on it was cancelled (it was
   * not that run's fault, so it is retryable); without it they fail as a thread exit.
   */
  terminate(cohosted?: (executionId: string) => ProcctlError): Promise<void> {
    this.endingFor ??= cohosted;
    void this.worker.terminate();
    return this.exited;
  }

  private onMessage(message: FromWorker): void {
    if (message.kind === 'loaded' || message.kind === 'load-failed') {
      const loading = this.loading;
      this.loading = undefined;
      if (message.kind === 'loaded') loading?.resolve();
      else loading?.reject(fromWire(message.error));
      return;
    }
    const run = this.runs.get(message.run);
    if (!run) return;
    switch (message.kind) {
      case 'event':
        return run.hooks.onEvent(message.event);
      case 'output':
        return run.hooks.onOutput(message.path, message.bytes, message.mime);
      case 'read':
        // Through a promise even when the reader throws at once: every failure is the read's answer.
        return void Promise.resolve(message.ref).then(run.hooks.readAttachment).then(
          (bytes) => {
            // Bytes in shared memory (a runtime's received attachments) are shared, not copied: a
            // 200 MB attachment costs 200 MB, and their reader checks them on every read. Other
            // bytes get one copy, owned by nobody else, handed over without another: the bytes a
            // handler changes are its own, and the next read gets the stored ones again.
            if (bytes.buffer instanceof SharedArrayBuffer) return this.send({ kind: 'attachment', id: message.id, bytes });
            const copy = new Uint8Array(bytes.byteLength);
            copy.set(bytes);
            this.send({ kind: 'attachment', id: message.id, bytes: copy }, [copy.buffer]);
          },
          (err: unknown) => this.send({ kind: 'attachment', id: message.id, error: toWire(err) }),
        );
      case 'done':
        return run.resolve();
      case 'failed':
        return run.reject(fromWire(message.error));
    }
  }
}

export interface HandlerPoolOptions {
  /** Threads per processor module at most (default: one per CPU); never more than its concurrency. */
  threads?: number;
}

/** Warm threads per processor module, and one spare started ahead of need. */
export class HandlerPool {
  private readonly env: NodeJS.ProcessEnv;
  private readonly threads: number;
  private spare: HandlerThread | undefined;
  /** Each processor module's threads, loading or loaded (a loading one is added at once, so two runs never both start one past the cap). */
  private readonly groups = new Map<string, { thread: HandlerThread; ready: Promise<void> }[]>();

  constructor(env: NodeJS.ProcessEnv, options: HandlerPoolOptions = {}) {
    this.env = env;
    this.threads = Math.max(1, options.threads ?? availableParallelism());
  }

  /**
   * Starts a thread now, so the next run does not wait for one (the CLI calls this first thing);
   * given the processor the run will most likely use, it loads that module in it at once, too.
   */
  prestart(likely?: { slug: string; registryDir?: string }): void {
    this.spare ??= new HandlerThread(this.env);
    if (likely) this.prepare(likely.slug, likely.registryDir).catch(() => undefined);
  }

  private fresh(): HandlerThread {
    const thread = this.spare?.alive ? this.spare : new HandlerThread(this.env);
    this.spare = undefined;
    return thread;
  }

  /**
   * Proves the processor's module loads (a missing handler, a bad default export: its typed
   * error) before the run is admitted. The thread that loaded it waits, warm, for the run.
   */
  async prepare(slug: string, registryDir: string | undefined): Promise<void> {
    const group = this.live(poolKey(slug, registryDir));
    await (group[0]?.ready ?? this.start(slug, registryDir).ready);
  }

  /** The module's threads still alive (an ended one is dropped here, and replaced on demand). */
  private live(key: string): { thread: HandlerThread; ready: Promise<void> }[] {
    const group = (this.groups.get(key) ?? []).filter((member) => member.thread.alive);
    this.groups.set(key, group);
    return group;
  }

  private start(slug: string, registryDir: string | undefined): { thread: HandlerThread; ready: Promise<void> } {
    const key = poolKey(slug, registryDir);
    const thread = this.fresh();
    const member = {
      thread,
      ready: thread.load(slug, registryDir).catch((err: unknown) => {
        // The thread is fine; only the module failed. It waits as the spare for the next run.
        this.groups.set(key, (this.groups.get(key) ?? []).filter((m) => m.thread !== thread));
        if (thread.alive && !this.spare) this.spare = thread;
        else void thread.terminate();
        throw err;
      }),
    };
    this.live(key).push(member);
    return member;
  }

  /**
   * A thread with the module loaded, its run counted against it until `release`: an idle one if
   * there is one, else a new one while the processor has fewer usable threads than its cap, else
   * the least busy. Threads still hosting a stopped handler get no new runs and do not count
   * against the cap (they end, or recover once that handler ends).
   */
  async acquire(slug: string, registryDir: string | undefined, concurrency: number): Promise<HandlerThread> {
    const usable = this.live(poolKey(slug, registryDir)).filter((member) => member.thread.usable);
    let best = usable[0];
    for (const member of usable) if (member.thread.reserved < (best as typeof member).thread.reserved) best = member;
    const cap = Math.max(1, Math.min(this.threads, concurrency));
    if (!best || (best.thread.reserved > 0 && usable.length < cap)) best = this.start(slug, registryDir);
    best.thread.reserved++;
    try {
      await best.ready;
    } catch (err) {
      best.thread.reserved--;
      throw err;
    }
    return best.thread;
  }

  /** A run on `thread` has ended (or never started). */
  release(thread: HandlerThread): void {
    thread.reserved = Math.max(0, thread.reserved - 1);
  }

  /** Ends every thread (a runtime shutting down, a test cleaning up). */
  async close(): Promise<void> {
    const threads = [...this.groups.values()].flat().map((member) => member.thread);
    if (this.spare) threads.push(this.spare);
    this.groups.clear();
    this.spare = undefined;
    await Promise.all(threads.map((thread) => thread.terminate()));
  }
}

/** Threads are pooled by the module file they load: two spellings of one registry folder share them. */
function poolKey(slug: string, registryDir: string | undefined): string {
  return handlerFile(slug, registryDir) ?? `${registryDir ?? ''}\0${slug}`;
}

const pools = new Map<NodeJS.ProcessEnv, HandlerPool>();

/** The pool for handlers that read secrets and config from `env`: one per environment object. */
export function handlerPool(env: NodeJS.ProcessEnv = process.env): HandlerPool {
  let pool = pools.get(env);
  if (!pool) pools.set(env, (pool = new HandlerPool(env)));
  return pool;
}
