/**
 * The inside of a handler worker: a thread with its own event loop, so a handler that never
 * yields can still be stopped (the control thread terminates the worker). It loads one processor
 * module, then runs its handler once per `run` message (several may be in flight, each numbered
 * by the control thread, with an abort signal of its own), giving it a context whose calls become
 * messages to the control thread: events, outputs (their bytes transferred, not copied again),
 * attachment reads. Secrets and config are answered here, from the environment the worker was
 * started with, because the SDK's `ctx.secret`/`ctx.config` are synchronous. It imports only
 * what the handler's context needs; the handler module brings its own imports.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ProcctlError } from '../contracts/errors.js';
import type { ArtifactRef } from '../artifacts/attachments.js';
import type { LogLevel, ProcessorContext, ProcessorDefinition, ProcessorEvent } from '../sdk/index.js';
import { loadProcessor } from './load-processor.js';
import { fromWire, toWire, type FromWorker, type RunSpec, type ToWorker, type WorkerData } from './worker-messages.js';

const port = parentPort as NonNullable<typeof parentPort>;
const env = (workerData as WorkerData).env;
// Each message goes out at once, never batched for later: a handler that logs and then never
// yields would otherwise take its last events with it.
const post = (message: FromWorker, transfer?: ArrayBuffer[]) => port.postMessage(message, transfer);

// A handler's stray timer that throws, or a promise it never handles, is logged and the thread
// goes on serving, as the runtime process itself does: it is not the fault of the next run.
const stray = (what: string) => (err: unknown) => process.stderr.write(`procctl handler thread: ${what}, kept serving: ${err instanceof Error ? err.message : String(err)}\n`);
process.on('uncaughtException', stray('uncaught exception'));
process.on('unhandledRejection', stray('unhandled rejection'));

let definition: ProcessorDefinition | undefined;
/** The runs this thread hosts, by the control thread's run number: each has its own abort state. */
const runs = new Map<number, { controller: AbortController | undefined; aborted: ProcctlError | undefined }>();
let nextRead = 0;
const reads = new Map<number, { resolve(bytes: Uint8Array): void; reject(err: ProcctlError): void }>();

/** Bytes this thread may hand over: a fresh buffer of exactly their length, transferred. */
function own(data: Uint8Array | string): Uint8Array {
  if (typeof data === 'string') return new TextEncoder().encode(data);
  const copy = new Uint8Array(data.byteLength);
  copy.set(data);
  return copy;
}

function contextFor(run: number, spec: RunSpec): ProcessorContext {
  const state = { controller: undefined as AbortController | undefined, aborted: undefined as ProcctlError | undefined };
  runs.set(run, state);
  const declared = new Set(spec.declaredSecrets);
  const emit = (event: ProcessorEvent) => {
    if (!state.aborted) post({ kind: 'event', run, event });
  };
  return {
    mode: spec.mode,
    ref: spec.ref,
    executionId: spec.executionId,
    params: spec.params,
    get signal() {
      state.controller ??= new AbortController();
      if (state.aborted && !state.controller.signal.aborted) state.controller.abort(state.aborted);
      return state.controller.signal;
    },
    readAttachment: (ref: ArtifactRef) =>
      new Promise<Uint8Array>((resolve, reject) => {
        const id = nextRead++;
        reads.set(id, { resolve, reject });
        post({ kind: 'read', run, id, ref });
      }),
    output(path, data, mime) {
      if (state.aborted) return;
      const bytes = own(data);
      post({ kind: 'output', run, path, bytes, ...(mime !== undefined && { mime }) }, [bytes.buffer as ArrayBuffer]);
    },
    log: (message: string, level: LogLevel = 'info') => emit({ kind: 'log', level, message }),
    token: (text) => emit({ kind: 'token', text }),
    progress: (fraction, message) => emit(message === undefined ? { kind: 'progress', fraction } : { kind: 'progress', fraction, message }),
    secret(name) {
      if (spec.mode !== 'real') throw new ProcctlError('ERR_PROCESSOR_FAILED', `the mock handler of ${spec.ref} asked for secret ${name}; mock mode has no secrets`);
      if (!declared.has(name)) throw new ProcctlError('ERR_PROCESSOR_FAILED', `${spec.ref} asked for secret ${name}, which its registry entry does not declare`);
      const value = spec.secretsPresent.includes(name) ? env[name] : undefined;
      if (value === undefined || value === '') throw new ProcctlError('ERR_MISSING_SECRET', `secret ${name} is not present`, { missing: [name] });
      return value;
    },
    config: (name) => (declared.has(name) ? undefined : env[name]),
  };
}

async function run(id: number, spec: RunSpec): Promise<void> {
  const loaded = definition as ProcessorDefinition;
  const handler = spec.mode === 'real' ? loaded.real : loaded.mock;
  try {
    await handler(contextFor(id, spec));
    post({ kind: 'done', run: id });
  } catch (err) {
    post({ kind: 'failed', run: id, error: toWire(err) });
  } finally {
    runs.delete(id);
  }
}

port.on('message', (message: ToWorker) => {
  switch (message.kind) {
    case 'load':
      loadProcessor(message.slug, message.registryDir).then(
        (loaded) => {
          definition = loaded;
          post({ kind: 'loaded' });
        },
        (err: unknown) => post({ kind: 'load-failed', error: toWire(err) }),
      );
      return;
    case 'run':
      void run(message.run, message.spec);
      return;
    case 'abort': {
      const state = runs.get(message.run);
      if (!state) return;
      state.aborted = fromWire(message.reason);
      state.controller?.abort(state.aborted);
      return;
    }
    case 'attachment': {
      const pending = reads.get(message.id);
      reads.delete(message.id);
      // A Buffer over the transferred memory, as the in-thread SDK always gave: no copy.
      if (message.bytes) pending?.resolve(Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength));
      else pending?.reject(fromWire(message.error ?? { code: 'ERR_INTERNAL', message: 'no bytes', retryable: false }));
      return;
    }
  }
});
