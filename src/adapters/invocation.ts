/**
 * One invocation, from the uniform adapter arguments to an output plan: the checks in their order,
 * the handler under its limits, the envelope facts. Every placement that runs handler code (the
 * in-process one, the processor runtime behind the WebSocket protocol) goes through here, which is
 * what keeps their envelopes — success and error alike — byte-identical.
 */
import { ProcctlError } from '../contracts/errors.js';
import { checkIJson, checkInputs, type ResolvedInputs } from '../contracts/inputs.js';
import { collectArtifactRefs, type ArtifactRef } from '../artifacts/attachments.js';
import { checkInvocationLimits } from '../contracts/limits.js';
import type { OutputPlan } from '../artifacts/outputs.js';
import { resolveWritePrefix } from '../artifacts/paths.js';
import { handlerPool, type HandlerPool } from '../execution/handler-pool.js';
import { runHandler } from '../execution/run-handler.js';
import type { RegistrySnapshot } from '../registry/registry.js';
import type { EnvelopeFacts } from './envelope-for.js';
import type { AdapterOpts, InvokeArgs } from './types.js';

/** The invocation itself; per-call options (events, cancel, timeout) travel separately. */
export type InvocationArgs = Omit<InvokeArgs, 'adapterOpts'>;

/** Frees what `admit` granted. */
export type Release = () => void;

export interface InvocationDeps extends AdapterOpts {
  /** A registry folder that may hold user handler modules (`<slug>/handler.js`). */
  registryDir?: string;
  /** Where secret and config values come from: the placement's own environment. */
  env: NodeJS.ProcessEnv;
  readAttachment(ref: ArtifactRef): Promise<Uint8Array>;
  /**
   * Called once every check has passed, just before the handler starts; resolves when the run may
   * start. The runtime uses it for its concurrency limit; the in-process placement has none.
   */
  admit?: (snapshot: RegistrySnapshot) => Promise<Release>;
  /** Given a promise that settles once the handler's worker is free; it may outlive a timeout or cancel. */
  onHandlerStarted?: (running: Promise<void>) => void;
  /** The handler workers; by default the pool for `env`. */
  pool?: HandlerPool;
  /** How long a stopped handler may go on before its worker is terminated. */
  abortGraceMs?: number;
}

/** Inputs as adapters take them: mode is required, never inferred. */
export function requireMode(args: Pick<InvokeArgs, 'inputsJson'>): ResolvedInputs {
  const inputs = checkInputs(args.inputsJson, 'inputsJson');
  if (inputs.mode === undefined) throw new ProcctlError('ERR_INPUT_INVALID', 'inputsJson has no "mode"; adapters take it explicitly ("mock" or "real")', { pointer: '/mode' });
  return inputs as ResolvedInputs;
}

/** What the envelope can say before anything is checked; `executeInvocation` adds the inputs. */
export function invocationFacts(args: InvocationArgs): EnvelopeFacts {
  return {
    ref: args.processorRef,
    executionId: args.executionId,
    // Unchecked inputs may carry any `mode`; the envelope only ever names a real one.
    mode: (args.inputsJson as { mode?: unknown } | null)?.mode === 'real' ? 'real' : 'mock',
    snapshot: args.registrySnapshot,
    secretsPresent: args.secretsPresent,
  };
}

/**
 * Runs the invocation and returns its output plan; throws a ProcctlError on any failure. `facts`
 * gains the checked inputs as soon as they are known, so the caller's error envelope carries the
 * inputs hash exactly when the in-process one would.
 */
export async function executeInvocation(args: InvocationArgs, facts: EnvelopeFacts, deps: InvocationDeps): Promise<OutputPlan> {
  checkIJson(args.inputsJson, 'inputsJson');
  checkInvocationLimits(args.inputsJson, collectArtifactRefs(paramsOf(args.inputsJson)));
  const inputs = requireMode(args);
  facts.inputs = inputs;
  if (args.registrySnapshot.ref !== args.processorRef) {
    throw new ProcctlError('ERR_REGISTRY_INVALID', `registry snapshot is for ${args.registrySnapshot.ref}, not ${args.processorRef}`);
  }
  const prefix = resolveWritePrefix(args.writePrefix, args.executionId);
  const pool = deps.pool ?? handlerPool(deps.env);
  // The module is loaded (in a worker, which then waits warm for the run) before admission, so a
  // missing or broken handler fails without taking a slot.
  await pool.prepare(args.registrySnapshot.slug, deps.registryDir);
  const release = deps.admit ? await deps.admit(args.registrySnapshot) : undefined;
  try {
    return await runHandler({
      pool,
      slug: args.registrySnapshot.slug,
      ...(deps.registryDir !== undefined && { registryDir: deps.registryDir }),
      ...(deps.abortGraceMs !== undefined && { abortGraceMs: deps.abortGraceMs }),
      snapshot: args.registrySnapshot,
      inputs,
      executionId: args.executionId,
      writePrefix: prefix,
      secretsPresent: args.secretsPresent,
      env: deps.env,
      readAttachment: deps.readAttachment,
      ...(deps.onEvent && { onEvent: deps.onEvent }),
      ...(deps.signal && { signal: deps.signal }),
      ...(deps.timeoutS !== undefined && { timeoutS: deps.timeoutS }),
      ...(deps.onHandlerStarted && { onHandlerStarted: deps.onHandlerStarted }),
    });
  } finally {
    release?.();
  }
}

/** The params of inputs that may not have checked yet. */
export function paramsOf(inputsJson: unknown): unknown {
  return (inputsJson as { params?: unknown } | null)?.params;
}
