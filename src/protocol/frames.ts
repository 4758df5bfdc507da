/**
 * The frames of `procctl.run.v1`: their types, the JSON Schemas that check them, and decoding with
 * the close code a bad frame earns. Both sides decode through here, so the client holds the server
 * to exactly the rules the server holds the client to.
 */
import type { Envelope } from '../contracts/envelope.js';
import { jsonValueProblem, MAX_JSON_DEPTH, parseJsonText, syntaxMessage, type JsonProblem } from '../contracts/i-json.js';
import { validateAgainst } from '../contracts/validator.js';
import type { RegistrySnapshot } from '../registry/registry.js';
import type { ProcessorEvent } from '../sdk/index.js';
import { CLOSE, MAX_ATTACHMENTS, type CloseCode } from './constants.js';

const CID = { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' } as const;
const NAME = { type: 'string', minLength: 1, maxLength: 256 } as const;

/** Bytes of one attachment follow the invoke frame, in this order. */
export interface AttachmentDecl {
  cid: string;
  size_bytes: number;
}

export interface InvokeFrame {
  kind: 'invoke';
  execution_id: string;
  ref: string;
  /** Inputs v1 with `mode` set; attachments are `{"$artifact", cid, mime, size_bytes}` references. */
  inputs: Record<string, unknown>;
  write_prefix: string;
  secrets_present?: string[];
  /** Without `entry` when an earlier invoke on the connection carried this `entry_cid` in full. */
  registry_snapshot: RegistrySnapshot | Omit<RegistrySnapshot, 'entry'>;
  attachments?: AttachmentDecl[];
  timeout_s?: number;
}

export interface CancelFrame {
  kind: 'cancel';
}

export type ClientFrame = InvokeFrame | CancelFrame;

export interface AckFrame {
  kind: 'ack';
  execution_id: string;
  /** True when the run waits for a free slot; it starts without another frame. */
  queued: boolean;
}

export interface OutputFrame {
  kind: 'output';
  path: string;
  cid: string;
  size_bytes: number;
  mime: string;
}

export interface ResultFrame {
  kind: 'result';
  envelope: Envelope;
}

export type EventFrame = ProcessorEvent;
export type ServerFrame = AckFrame | EventFrame | OutputFrame | ResultFrame;

export const CLIENT_FRAME_SCHEMAS = {
  invoke: {
    type: 'object',
    required: ['kind', 'execution_id', 'ref', 'inputs', 'write_prefix', 'registry_snapshot'],
    properties: {
      kind: { const: 'invoke' },
      execution_id: NAME,
      ref: NAME,
      inputs: { type: 'object' },
      write_prefix: { type: 'string', maxLength: 4096 },
      secrets_present: { type: 'array', maxItems: 256, items: NAME },
      registry_snapshot: {
        type: 'object',
        // `entry` may be left out when this connection has carried the same entry_cid in full before.
        required: ['ref', 'slug', 'entry_cid'],
        properties: { ref: NAME, slug: NAME, entry: { type: 'object' }, entry_cid: CID },
      },
      attachments: {
        type: 'array',
        maxItems: MAX_ATTACHMENTS,
        items: { type: 'object', required: ['cid', 'size_bytes'], properties: { cid: CID, size_bytes: { type: 'integer', minimum: 0 } } },
      },
      timeout_s: { type: 'number', exclusiveMinimum: 0 },
    },
  },
  cancel: { type: 'object', required: ['kind'], properties: { kind: { const: 'cancel' } } },
} as const;

export const SERVER_FRAME_SCHEMAS = {
  ack: { type: 'object', required: ['kind', 'execution_id', 'queued'], properties: { execution_id: { type: 'string' }, queued: { type: 'boolean' } } },
  log: { type: 'object', required: ['kind', 'level', 'message'], properties: { level: { enum: ['debug', 'info', 'warn', 'error'] }, message: { type: 'string' } } },
  token: { type: 'object', required: ['kind', 'text'], properties: { text: { type: 'string' } } },
  progress: { type: 'object', required: ['kind', 'fraction'], properties: { fraction: { type: 'number', minimum: 0, maximum: 1 }, message: { type: 'string' } } },
  output: {
    type: 'object',
    required: ['kind', 'path', 'cid', 'size_bytes', 'mime'],
    properties: { path: { type: 'string', minLength: 1 }, cid: CID, size_bytes: { type: 'integer', minimum: 0 }, mime: { type: 'string' } },
  },
  // The envelope inside is checked against the envelope schema by the client.
  result: { type: 'object', required: ['kind', 'envelope'], properties: { envelope: { type: 'object' } } },
} as const;

/** Why a frame was refused: the close code to send and a reason that fits a close frame. */
export interface FrameProblem {
  code: CloseCode;
  reason: string;
}

/**
 * A decoded frame, or why it was refused. `inputsProblem`: an invoke frame is sound but its inputs
 * repeat a member name, which only the raw text shows; the run ends with that input error (the
 * inputs' other I-JSON problems are found by the run's own check, as in every placement).
 */
export type Decoded<F> = { frame: F; inputsProblem?: JsonProblem; problem?: undefined } | { frame?: undefined; inputsProblem?: undefined; problem: FrameProblem };

/** Frame depth: the inputs sit one level below the frame, so they get the inputs' whole limit. */
const MAX_FRAME_DEPTH = MAX_JSON_DEPTH + 1;

/**
 * Parses one text frame and checks it against the schema for its kind. Unknown fields are
 * ignored, so a later minor addition does not need a new subprotocol.
 */
export function decodeFrame<F extends { kind: string }>(text: string, schemas: Readonly<Record<string, object>>): Decoded<F> {
  // I-JSON, as everything that reaches canonical JSON must be; iterative, so no frame can exhaust
  // the stack. An invoke's `inputs` are the run's: their problems become the run's input error.
  const parsed = parseJsonText(text, MAX_FRAME_DEPTH);
  if (parsed.syntax) return { problem: { code: CLOSE.NOT_JSON, reason: closeReason(`frame is not JSON: ${syntaxMessage(text, parsed.syntax.message)}`) } };
  const value = parsed.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { problem: { code: CLOSE.NOT_JSON, reason: 'frame is JSON but not an object' } };
  const kind = (value as { kind?: unknown }).kind;
  if (typeof kind !== 'string') return { problem: { code: CLOSE.INVALID_FRAME, reason: 'frame has no string "kind"' } };
  const schema = Object.hasOwn(schemas, kind) ? schemas[kind] : undefined;
  if (!schema) return { problem: { code: CLOSE.UNKNOWN_KIND, reason: closeReason(`unknown frame kind ${JSON.stringify(kind)}; expected one of ${Object.keys(schemas).join(', ')}`) } };
  const runOwned = kind === 'invoke' && Object.hasOwn(value, 'inputs');
  const duplicate = parsed.duplicate;
  const inputsProblem = runOwned && duplicate?.pointer.startsWith('/inputs/') ? duplicate : undefined;
  const frameProblem = (duplicate && !inputsProblem ? duplicate : undefined) ?? jsonValueProblem(runOwned ? { ...value, inputs: {} } : value, MAX_FRAME_DEPTH);
  if (frameProblem) return { problem: { code: CLOSE.INVALID_FRAME, reason: closeReason(`${kind} frame is not I-JSON: ${frameProblem.message}`) } };
  const problems = validateAgainst(schema, value);
  const first = problems[0];
  if (first) return { problem: { code: CLOSE.INVALID_FRAME, reason: closeReason(`${kind} frame: ${first.pointer || '/'} ${first.message}`) } };
  return { frame: value as F, ...(inputsProblem && { inputsProblem }) };
}

const MAX_REASON_BYTES = 123; // RFC 6455: a close frame's payload is at most 125 bytes, 2 of them the code

/** A close reason cut to what a close frame can carry, never splitting a UTF-8 sequence. */
export function closeReason(text: string): string {
  if (Buffer.byteLength(text) <= MAX_REASON_BYTES) return text;
  let cut = text.slice(0, MAX_REASON_BYTES - 1);
  while (Buffer.byteLength(`${cut}…`) > MAX_REASON_BYTES) cut = cut.slice(0, -1);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}
