/**
 * Runs one processor handler to completion under its limits: params checked against the
 * registry's schema, required secrets present (real mode), the handler raced against `timeout_s`
 * and cancellation, outputs canonicalised. Placements (in-process, the container runtime) share
 * this, which is what makes their envelopes equal.
 */
import { ProcctlError, toProcctlError } from '../contracts/errors.js';
import type { ResolvedInputs } from '../contracts/inputs.js';
import { formatProblems, validateAgainst } from '../contracts/validator.js';
import type { ArtifactRef } from '../artifacts/attachments.js';
import { mimeFor } from '../artifacts/mime.js';
import { planOutputs, type OutputPlan, type ProducedOutput } from '../artifacts/outputs.js';
import type { RegistrySnapshot } from '../registry/registry.js';
import type { LogLevel, ProcessorContext, ProcessorDefinition, ProcessorEvent } from '../sdk/index.js';
import { secretRedactor } from './redact.js';
import { requireSecrets } from '../api/secrets.js';

export interface HandlerRun {
  definition: ProcessorDefinition;
  snapshot: RegistrySnapshot;
  inputs: ResolvedInputs;
  executionId: string;
  writePrefix: string;
  secretsPresent: readonly string[];
  /** Where secret and config values come from: the placement's own environment. */
  env: NodeJS.ProcessEnv;
  readAttachment(ref: ArtifactRef): Promise<Uint8Array>;
  onEvent?: (event: ProcessorEvent) => void;
  signal?: AbortSignal;
  /** Overrides the registry's `timeout_s` (only ever to shorten it). */
  timeoutS?: number;
  /**
   * Given the handler's own promise when it starts. After a timeout or cancel `runHandler` returns
   * at once, but a handler that ignores `ctx.signal` keeps running; this is how a placement knows.
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
  // Why the run stopped early, if it did. The handler's AbortController is made only when the
  // handler asks for ctx.signal: most mock handlers never do, and a long-lived runtime makes one
  // per invoke otherwise.
  let stopReason: ProcctlError | undefined;
  let controller: AbortController | undefined;
  const stop = (err: ProcctlError) => {
    if (stopReason) return;
    stopReason = err;
    controller?.abort(err);
    settle(err);
  };
  const timer = setTimeout(() => stop(new ProcctlError('ERR_TIMEOUT', `${run.snapshot.ref} ran longer than its limit of ${timeoutS}s`, { timeout_s: timeoutS })), timeoutS * 1000);
  const onCancel = () => {
    // A placement may say why (a runtime shutting down); a plain abort() is a user's cancel.
    const reason: unknown = run.signal?.reason;
    stop(reason instanceof ProcctlError && reason.code === 'ERR_CANCELLED' ? reason : new ProcctlError('ERR_CANCELLED', `execution ${run.executionId} was cancelled`));
  };
  if (run.signal?.aborted) onCancel();
  else run.signal?.addEventListener('abort', onCancel, { once: true });

  const allowedSecrets = new Set([...run.snapshot.entry.secrets.required, ...(run.snapshot.entry.secrets.optional ?? [])]);
  const redact = secretRedactor(allowedSecrets, run.env);
  const emit = (event: ProcessorEvent) => {
    if (stopReason) return;
    if (event.kind === 'log') run.onEvent?.({ ...event, message: redact(event.message) });
    else if (event.kind === 'progress' && event.message !== undefined) run.onEvent?.({ ...event, message: redact(event.message) });
    else run.onEvent?.(event);
  };
  const ctx: ProcessorContext = {
    mode: run.inputs.mode,
    ref: run.snapshot.ref,
    executionId: run.executionId,
    params: run.inputs.params,
    get signal() {
      controller ??= new AbortController();
      if (stopReason && !controller.signal.aborted) controller.abort(stopReason);
      return controller.signal;
    },
    readAttachment: (ref) => run.readAttachment(ref),
    output(path, data, mime) {
      if (stopReason) return;
      produced.push({ path, bytes: typeof data === 'string' ? Buffer.from(data, 'utf8') : data, mime: mime ?? mimeFor(path) });
    },
    log: (message: string, level: LogLevel = 'info') => emit({ kind: 'log', level, message }),
    token: (text) => emit({ kind: 'token', text }),
    progress: (fraction, message) => emit(message === undefined ? { kind: 'progress', fraction } : { kind: 'progress', fraction, message }),
    secret(name) {
      if (run.inputs.mode !== 'real') throw new ProcctlError('ERR_PROCESSOR_FAILED', `the mock handler of ${run.snapshot.ref} asked for secret ${name}; mock mode has no secrets`);
      if (!allowedSecrets.has(name)) throw new ProcctlError('ERR_PROCESSOR_FAILED', `${run.snapshot.ref} asked for secret ${name}, which its registry entry does not declare`);
      const value = run.secretsPresent.includes(name) ? run.env[name] : undefined;
      if (value === undefined || value === '') throw new ProcctlError('ERR_MISSING_SECRET', `secret ${name} is not present`, { missing: [name] });
      return value;
    },
    config: (name) => (allowedSecrets.has(name) ? undefined : run.env[name]),
  };

  const handler = run.inputs.mode === 'real' ? run.definition.real : run.definition.mock;
  try {
    // Cancelled before it could begin (while queued for a slot, say): the handler never starts.
    if (stopReason) throw stopReason;
    // The async wrapper turns a synchronous throw or a non-promise return into a settled promise.
    const running = (async () => handler(ctx))();
    run.onHandlerStarted?.(running);
    await Promise.race([running, stopped]);
  } catch (err) {
    if (stopReason) throw stopReason;
    const failure = toProcctlError(err);
    const code = failure.code === 'ERR_INTERNAL' ? 'ERR_PROCESSOR_FAILED' : failure.code;
    const message = failure.code === 'ERR_INTERNAL' ? `${run.snapshot.ref} failed: ${failure.message}` : failure.message;
    const details = failure.details === undefined ? undefined : (JSON.parse(redact(JSON.stringify(failure.details))) as Record<string, unknown>);
    throw new ProcctlError(code, redact(message), details, { retryable: failure.retryable });
  } finally {
    clearTimeout(timer);
    run.signal?.removeEventListener('abort', onCancel);
  }
  return planOutputs(run.writePrefix, produced);
}
