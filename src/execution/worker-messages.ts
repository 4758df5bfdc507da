/**
 * What the control thread and a handler worker (handler-worker.ts) say to each other. Errors cross
 * the thread boundary as plain fields and become ProcctlErrors again on the other side, so a coded
 * handler error keeps its code, details and retry advice. Types only, apart from the two error
 * helpers: the worker loads this file, and it must stay small.
 */
import { isErrorCode, ProcctlError, toProcctlError, type ErrorDetails } from '../contracts/errors.js';
import type { ArtifactRef } from '../artifacts/attachments.js';
import type { Mode } from '../contracts/inputs.js';
import type { ProcessorEvent } from '../sdk/index.js';

export interface WireError {
  code: string;
  message: string;
  details?: ErrorDetails;
  retryable: boolean;
}

/** What the worker needs to build a handler's context; no values but the params. */
export interface RunSpec {
  mode: Mode;
  ref: string;
  executionId: string;
  params: Record<string, unknown>;
  secretsPresent: readonly string[];
  /** The entry's declared secrets, required and optional. */
  declaredSecrets: readonly string[];
}

/** `run` numbers a run on its thread; an attachment read's `id` is unique across the thread's runs. */
export type ToWorker =
  | { kind: 'load'; slug: string; registryDir?: string }
  | { kind: 'run'; run: number; spec: RunSpec }
  | { kind: 'abort'; run: number; reason: WireError }
  | { kind: 'attachment'; id: number; bytes?: Uint8Array; error?: WireError };

export type FromWorker =
  | { kind: 'loaded' }
  | { kind: 'load-failed'; error: WireError }
  | { kind: 'event'; run: number; event: ProcessorEvent }
  | { kind: 'output'; run: number; path: string; bytes: Uint8Array; mime?: string }
  | { kind: 'read'; run: number; id: number; ref: ArtifactRef }
  | { kind: 'done'; run: number }
  | { kind: 'failed'; run: number; error: WireError };

/** The environment a worker's handlers read secrets and config from, fixed when it starts. */
export interface WorkerData {
  env: Record<string, string | undefined>;
}

export function toWire(err: unknown): WireError {
  const failure = toProcctlError(err);
  return { code: failure.code, message: failure.message, ...(failure.details !== undefined && { details: failure.details }), retryable: failure.retryable };
}

export function fromWire(wire: WireError): ProcctlError {
  return new ProcctlError(isErrorCode(wire.code) ? wire.code : 'ERR_INTERNAL', wire.message, wire.details, { retryable: wire.retryable });
}
