/**
 * Handler workers as the control thread sees them. Every placement that runs handler code runs it
 * in a worker thread, so a handler that never yields (a CPU-bound loop, `while (true) {}`) can be
 * stopped: the control thread keeps its own event loop, answers the timeout or cancel on time, and
 * terminates the worker. Workers are warm: each serves one run at a time, goes back to its pool
 * when the handler ends and serves the next run of the same processor, so a long-lived runtime
 * pays the thread start once per slot, not per invoke. A worker that was terminated is replaced.
 * An idle worker never keeps the process alive.
 */
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

/** One worker thread and the run it is doing, if any. */
export class HandlerWorker {
  private readonly worker: Worker;
  /** Resolves once the thread has ended, however it ended. */
  readonly exited: Promise<void>;
  private listener: ((message: FromWorker) => void) | undefined;
  private ended: ProcctlError | undefined;
  private onEnd: ((err: ProcctlError) => void) | undefined;

  constructor(env: NodeJS.ProcessEnv) {
    const workerData: WorkerData = { env: { ...env } };
    this.worker = new Worker(WORKER_FILE, { workerData, stdout: false, stderr: false });
    this.worker.on('message', (message: FromWorker) => this.listener?.(message));
    // A handler's stray callback that throws, process.exit() in a handler, running out of memory:
    // the thread ends; the run it was doing fails, and the pool never hands this worker out again.
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

  private end(why: string): void {
    if (this.ended) return;
    // ERR_INTERNAL, so a run turns it into "<ref> failed: …" as it does any uncoded failure.
    this.ended = new ProcctlError('ERR_INTERNAL', why);
    this.onEnd?.(this.ended);
  }

  private send(message: ToWorker, transfer?: ArrayBuffer[]): void {
    if (this.alive) this.worker.postMessage(message, transfer);
  }

  /** Imports the processor module in the thread (resolved and checked by loadProcessor there). */
  load(slug: string, registryDir: string | undefined): Promise<void> {
    return this.exchange((resolve, reject) => {
      this.listener = (message) => {
        if (message.kind === 'loaded') resolve();
        else if (message.kind === 'load-failed') reject(fromWire(message.error));
      };
      this.send({ kind: 'load', slug, ...(registryDir !== undefined && { registryDir }) });
    });
  }

  /** Runs the loaded handler; resolves when it returns, rejects with its error (as a ProcctlError). */
  run(spec: RunSpec, hooks: RunHooks): Promise<void> {
    return this.exchange((resolve, reject) => {
      this.listener = (message) => {
        switch (message.kind) {
          case 'event':
            return hooks.onEvent(message.event);
          case 'output':
            return hooks.onOutput(message.path, message.bytes, message.mime);
          case 'read':
            // Through a promise even when the reader throws at once: every failure is the read's answer.
            return void Promise.resolve(message.ref).then(hooks.readAttachment).then(
              (bytes) => {
                // One copy, owned by nobody else, handed over without another: the bytes a handler
                // changes are its own, and the next read gets the stored ones again.
                const copy = new Uint8Array(bytes.byteLength);
                copy.set(bytes);
                this.send({ kind: 'attachment', id: message.id, bytes: copy }, [copy.buffer]);
              },
              (err: unknown) => this.send({ kind: 'attachment', id: message.id, error: toWire(err) }),
            );
          case 'done':
            return resolve();
          case 'failed':
            return reject(fromWire(message.error));
          default:
            return undefined;
        }
      };
      this.send({ kind: 'run', spec });
    });
  }

  /**
   * Passes a stop on to the handler's `ctx.signal`. Nobody waits for the run any more, so the
   * thread stops keeping the process alive: a CLI exits with its envelope, grace or not.
   */
  abort(reason: ProcctlError): void {
    this.send({ kind: 'abort', reason: toWire(reason) });
    this.worker.unref();
  }

  terminate(): Promise<void> {
    void this.worker.terminate();
    return this.exited;
  }

  /** One request and its answer; the thread is kept referenced (the process alive) meanwhile. */
  private exchange(start: (resolve: () => void, reject: (err: ProcctlError) => void) => void): Promise<void> {
    if (this.ended) return Promise.reject(this.ended);
    this.worker.ref();
    return new Promise<void>((resolve, reject) => {
      this.onEnd = reject;
      start(resolve, reject);
    }).finally(() => {
      this.listener = undefined;
      this.onEnd = undefined;
      this.worker.unref();
    });
  }
}

/** Warm workers per processor module, and one spare started ahead of need. */
export class HandlerPool {
  private readonly env: NodeJS.ProcessEnv;
  private spare: HandlerWorker | undefined;
  private readonly idle = new Map<string, HandlerWorker[]>();
  /** Keys whose module has loaded in a worker once: later workers for them load without a check first. */
  private readonly known = new Set<string>();
  private readonly loading = new Map<string, Promise<void>>();

  constructor(env: NodeJS.ProcessEnv) {
    this.env = env;
  }

  /**
   * Starts a thread now, so the next run does not wait for one (the CLI calls this first thing);
   * given the processor the run will most likely use, it loads that module in it at once, too.
   */
  prestart(likely?: { slug: string; registryDir?: string }): void {
    this.spare ??= new HandlerWorker(this.env);
    if (likely) this.prepare(likely.slug, likely.registryDir).catch(() => undefined);
  }

  private fresh(): HandlerWorker {
    const worker = this.spare?.alive ? this.spare : new HandlerWorker(this.env);
    this.spare = undefined;
    return worker;
  }

  /**
   * Proves the processor's module loads (a missing handler, a bad default export: its typed
   * error), before the run is admitted. The worker that loaded it waits, warm, for the run.
   */
  async prepare(slug: string, registryDir: string | undefined): Promise<void> {
    const key = poolKey(slug, registryDir);
    if (this.known.has(key)) return;
    let loading = this.loading.get(key);
    if (!loading) {
      loading = this.firstLoad(key, slug, registryDir).finally(() => this.loading.delete(key));
      this.loading.set(key, loading);
    }
    await loading;
  }

  private async firstLoad(key: string, slug: string, registryDir: string | undefined): Promise<void> {
    const worker = this.fresh();
    try {
      await worker.load(slug, registryDir);
    } catch (err) {
      // The thread is fine; only the module failed. It waits as the spare for the next run.
      if (worker.alive && !this.spare) this.spare = worker;
      else void worker.terminate();
      throw err;
    }
    this.known.add(key);
    const list = this.idle.get(key) ?? [];
    list.push(worker);
    this.idle.set(key, list);
  }

  /** A warm worker with the module loaded: an idle one, or a new one. */
  async acquire(slug: string, registryDir: string | undefined): Promise<HandlerWorker> {
    const key = poolKey(slug, registryDir);
    const list = this.idle.get(key);
    for (let worker = list?.pop(); worker; worker = list?.pop()) if (worker.alive) return worker;
    const worker = this.fresh();
    await worker.load(slug, registryDir);
    return worker;
  }

  /** Back into the pool after a run whose handler ended; at most `keep` idle per processor. */
  release(slug: string, registryDir: string | undefined, worker: HandlerWorker, keep: number): void {
    const key = poolKey(slug, registryDir);
    const list = this.idle.get(key) ?? [];
    if (!worker.alive || list.length >= keep) {
      void worker.terminate();
      return;
    }
    list.push(worker);
    this.idle.set(key, list);
  }

  /** Ends every idle thread (a runtime shutting down, a test cleaning up). */
  async close(): Promise<void> {
    const workers = [...this.idle.values()].flat();
    if (this.spare) workers.push(this.spare);
    this.idle.clear();
    this.spare = undefined;
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** Workers are pooled by the module file they load: two spellings of one registry folder share them. */
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
