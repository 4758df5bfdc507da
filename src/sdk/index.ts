/**
 * The processor SDK: what a processor author writes against. A processor is two handlers, `mock`
 * (deterministic, hermetic) and `real` (the production path), each given a context with its params,
 * attachment reader, output writer and event stream. The same definition runs in-process, in the
 * runtime inside a container, or anywhere else a placement puts it.
 */
import type { Mode } from '../contracts/inputs.js';
import type { ArtifactRef } from '../artifacts/attachments.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Events a handler streams while it runs; placements relay them (stderr, WebSocket frames, …). */
export type ProcessorEvent =
  | { kind: 'log'; level: LogLevel; message: string }
  | { kind: 'token'; text: string }
  | { kind: 'progress'; fraction: number; message?: string };

export interface ProcessorContext<P = Record<string, unknown>> {
  readonly mode: Mode;
  readonly ref: string;
  readonly executionId: string;
  /** The params, with attachments as artifact references (`{"$artifact", cid, mime, size_bytes}`). */
  readonly params: P;
  /** Aborted on timeout or cancellation; long work should pass it on (fetch, timers, children). */
  readonly signal: AbortSignal;
  /** The bytes of an attachment, checked against its content id. Read-only: copy them to change them (a runtime shares them with the handler, see the README). */
  readAttachment(ref: ArtifactRef): Promise<Uint8Array>;
  /** Adds an output. Paths are canonicalised later; the mime type defaults from the extension. */
  output(path: string, data: Uint8Array | string, mime?: string): void;
  log(message: string, level?: LogLevel): void;
  token(text: string): void;
  progress(fraction: number, message?: string): void;
  /** A secret's value, real mode only. Values never leave the handler through procctl. */
  secret(name: string): string;
  /** Non-secret configuration from the placement's environment (base URLs, model names). */
  config(name: string): string | undefined;
}

export type Handler<P = Record<string, unknown>> = (ctx: ProcessorContext<P>) => Promise<void>;

export interface ProcessorDefinition<P = Record<string, unknown>> {
  mock: Handler<P>;
  real: Handler<P>;
}

/** Identity at run time; it exists so handlers get their context typed. */
export function defineProcessor<P = Record<string, unknown>>(definition: ProcessorDefinition<P>): ProcessorDefinition<P> {
  return definition;
}

export function isProcessorDefinition(value: unknown): value is ProcessorDefinition {
  const v = value as Partial<ProcessorDefinition> | null;
  return v !== null && typeof v === 'object' && typeof v.mock === 'function' && typeof v.real === 'function';
}
