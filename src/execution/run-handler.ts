/**
 * Runs one processor handler to completion under its limits: params checked against the
 * registry's schema, required secrets present (real mode), the handler raced against `timeout_s`
 * and cancellation, outputs canonicalised. Placements (in-process, the container runtime) share
 * this, which is what makes their envelopes equal.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ProcctlError, toProcctlError } from '../contracts/errors.js';
import type { ResolvedInputs } from '../contracts/inputs.js';
import { formatProblems, validateAgainst } from '../contracts/validator.js';
import type { ArtifactRef } from '../artifacts/attachments.js';
import { mimeFor } from '../artifacts/mime.js';
import { planOutputs, type OutputPlan, type ProducedOutput } from '../artifacts/outputs.js';
import type { RegistrySnapshot } from '../registry/registry.js';
import type { ProcessorEvent } from '../sdk/index.js';
import type { HandlerPool, HandlerThread } from './handler-pool.js';
import { withoutFolders } from './host-paths.js';
import { secretRedactor } from './redact.js';
import { requireSecrets } from '../api/secrets.js';

export interface HandlerRun {
  /** Where the handler runs: a warm thread of this pool, with the processor's module loaded. */
  pool: HandlerPool;
  /** The processor's slug and the registry folder its module may come from (as loadProcessor takes them). */
  slug: string;
  registryDir?: string;
  snapshot: RegistrySnapshot;
  inputs: ResolvedInputs;
  executionId: string;
  writePrefix: string;
  secretsPresent: readonly string[];
  /** Where secret values come from for redaction: the placement's own environment. */
  env: NodeJS.ProcessEnv;
  readAttachment(ref: ArtifactRef): Promise<Uint8Array>;
  onEvent?: (event: ProcessorEvent) => void;
  signal?: AbortSignal;
  /** Overrides the registry's `timeout_s` (only ever to shorten it). */
  timeoutS?: number;
  /**
   * How long a stopped handler may go on before its worker is terminated (default 5 s): time to
   * notice `ctx.signal` and clean up (children, files). One that never yields is ended then.
   */
  abortGraceMs?: number;
  /**
   * Given, when the handler starts, a promise that settles once its worker is free again (the
   * handler ended, or its thread was terminated). After a timeout or cancel `runHandler` returns
   * at once; this is how a placement knows what still runs.
   */
  onHandlerStarted?: (running: Promise<void>) => void;
}

/** Checks that need no handler: params against the schema, secrets by name. */
export function preflight(snapshot: RegistrySnapshot, inputs: ResolvedInputs, secretsPresent: readonly string[]): void {
  const problems = validateAgainst(snapshot.entry.inputs_schema, inputs.params);
  if (problems.length > 0) {
    throw new ProcctlError('ERR_INPUT_INVALID', `params do not match ${snapshot.ref}'s inputs schema: ${formatProblems(problems, 'params')}`, { problems: problems.map((p) => ({ ...p })) });
  }
  if (inputs.mode === 'real') {
    requireSecrets(snapshot, secretsPresent);
  }
}

export function effectiveTimeoutS(snapshot: RegistrySnapshot, override?: number): number {
  const limit = snapshot.entry.runtime.timeout_s;
  return override !== undefined && override > 0 ? Math.min(limit, override) : limit;
}

export async function runHandler(run: HandlerRun): Promise<OutputPlan> {
  preflight(run.snapshot, run.inputs, run.secretsPresent);
  const produced: ProducedOutput[] = [];
  const timeoutS = effectiveTimeoutS(run.snapshot, run.timeoutS);
  let settle!: (err: ProcctlError) => void;
  const stopped = new Promise<never>((_, reject) => (settle = reject));
  // Raced against the handler below; a run stopped before its handler starts never races it.
  stopped.catch(() => undefined);
  // Why the run stopped early, if it did; its thread passes it on to ctx.signal.
  let stopReason: ProcctlError | undefined;
  let abortHandler: ((err: ProcctlError) => void) | undefined;
  const stop = (err: ProcctlError) => {
    if (stopReason) return;
    stopReason = err;
    abortHandler?.(err);
    settle(err);
  };
  let timer: NodeJS.Timeout | undefined;
  const onCancel = () => {
    // A placement may say why (a runtime shutting down); a plain abort() is a user's cancel.
    const reason: unknown = run.signal?.reason;
    stop(reason instanceof ProcctlError && reason.code === 'ERR_CANCELLED' ? reason : new ProcctlError('ERR_CANCELLED', `execution ${run.executionId} was cancelled`));
  };
  if (run.signal?.aborted) onCancel();
  else run.signal?.addEventListener('abort', onCancel, { once: true });

  const declaredSecrets = [...run.snapshot.entry.secrets.required, ...(run.snapshot.entry.secrets.optional ?? [])];
  const redact = secretRedactor(declaredSecrets, run.env);
  const onEvent = (event: ProcessorEvent) => {
    if (stopReason) return;
    if (event.kind === 'log') run.onEvent?.({ ...event, message: redact(event.message) });
    else if (event.kind === 'progress' && event.message !== undefined) run.onEvent?.({ ...event, message: redact(event.message) });
    else run.onEvent?.(event);
  };
  const onOutput = (path: string, bytes: Uint8Array, mime: string | undefined) => {
    if (!stopReason) produced.push({ path, bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), mime: mime ?? mimeFor(path) });
  };

  try {
    // Cancelled before it could begin (while queued for a slot, say): the handler never starts.
    if (stopReason) throw stopReason;
    const thread = await run.pool.acquire(run.slug, run.registryDir, run.snapshot.entry.runtime.concurrency);
    if (stopReason) {
      run.pool.release(thread);
      throw stopReason;
    }
    // The clock starts with the handler, not with the thread it waited for.
    timer = setTimeout(() => stop(new ProcctlError('ERR_TIMEOUT', `${run.snapshot.ref} ran longer than its limit of ${timeoutS}s`, { timeout_s: timeoutS })), timeoutS * 1000);
    const spec = { mode: run.inputs.mode, ref: run.snapshot.ref, executionId: run.executionId, params: run.inputs.params, secretsPresent: run.secretsPresent, declaredSecrets };
    const hosted = thread.run(spec, { onEvent, onOutput, readAttachment: (ref) => run.readAttachment(ref) });
    const ended = hosted.done.then(
      () => undefined,
      () => undefined,
    );
    abortHandler = (err) => hosted.abort(err);
    // Always settled, so a stopped handler's thread is released or ended; the placement may track it.
    let free!: () => void;
    const freedPromise = new Promise<void>((resolve) => (free = resolve));
    run.onHandlerStarted?.(freedPromise);
    try {
      await Promise.race([hosted.done, stopped]);
    } finally {
      if (stopReason) void afterStop(thread, ended, run, stopReason).then(free);
      else {
        // Released before this run's slot is given on, so the next run finds the thread free.
        run.pool.release(thread);
        free();
      }
    }
  } catch (err) {
    if (stopReason) throw stopReason;
    const failure = toProcctlError(err);
    // A handler's own failure may name files in its folder: relative to the registry, not the host.
    const clean = (text: string) => redact(withoutFolders(text, [run.registryDir]));
    const code = failure.code === 'ERR_INTERNAL' ? 'ERR_PROCESSOR_FAILED' : failure.code;
    const message = failure.code === 'ERR_INTERNAL' ? `${run.snapshot.ref} failed: ${failure.message}` : failure.message;
    const details = failure.details === undefined ? undefined : (JSON.parse(clean(JSON.stringify(failure.details))) as Record<string, unknown>);
    throw new ProcctlError(code, clean(message), details, { retryable: failure.retryable });
  } finally {
    clearTimeout(timer);
    run.signal?.removeEventListener('abort', onCancel);
  }
  return planOutputs(run.writePrefix, produced);
}

/**
 * After a timeout or cancel: a handler that ends within the grace leaves its thread to the pool;
 * one that does not (it ignores its abort, or never yields) has its thread terminated, and a
 * replacement starts on demand. Runs of the same processor that shared the thread are cancelled
 * with it, retryable, and told why.
 */
async function afterStop(thread: HandlerThread, ended: Promise<void>, run: HandlerRun, why: ProcctlError): Promise<void> {
  const graceMs = run.abortGraceMs ?? 5_000;
  const graceOver = sleep(graceMs, 'over' as const, { ref: false });
  if ((await Promise.race([ended, graceOver])) === 'over') {
    const reason = why.code === 'ERR_TIMEOUT' ? 'its timeout' : 'its cancel';
    await thread.terminate((executionId) => new ProcctlError('ERR_CANCELLED', `execution ${executionId} was cancelled: it shared a handler thread with execution ${run.executionId}, which was still running ${graceMs} ms after ${reason}, so the thread was ended; retry it`));
  }
  run.pool.release(thread);
}
