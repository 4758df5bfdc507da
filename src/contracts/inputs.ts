/**
 * Inputs v1: `{"schema":"v1","mode"?:"mock"|"real","params":{…}}`. Parsing turns raw bytes into a
 * checked value with errors that say what was wrong and where; nothing downstream sees raw text.
 */
import { canonicalContentId } from './content-id.js';
import { ProcctlError } from './errors.js';
import { jsonValueProblem, parseIJson, type JsonProblem } from './i-json.js';
import { INPUTS_V1_SCHEMA } from './schemas.js';
import { formatProblems, validateAgainst } from './validator.js';

export type Mode = 'mock' | 'real';
export const MODES: readonly Mode[] = ['mock', 'real'];

export interface InputsV1 {
  schema: 'v1';
  mode?: Mode;
  params: Record<string, unknown>;
}

/** Inputs with the mode settled: what adapters receive. */
export interface ResolvedInputs extends InputsV1 {
  mode: Mode;
}

/** 8 MiB: far above any chat request, far below what would hurt a control plane to hold. */
export const DEFAULT_MAX_INPUT_BYTES = 8 * 1024 * 1024;

/**
 * Decodes and parses inputs. `source` names where they came from (`--inputs-json`, a file path,
 * `stdin`) so every message points at it.
 */
export function parseInputsBytes(bytes: Uint8Array, source: string, maxBytes = DEFAULT_MAX_INPUT_BYTES): InputsV1 {
  if (bytes.byteLength > maxBytes) {
    throw new ProcctlError('ERR_INPUT_TOO_LARGE', `inputs from ${source} are ${bytes.byteLength} bytes; the limit is ${maxBytes} bytes (store large data as an --attach file instead)`, { source, size_bytes: bytes.byteLength, limit_bytes: maxBytes });
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ProcctlError('ERR_INPUT_ENCODING', `inputs from ${source} are not valid UTF-8 (at byte ${firstInvalidUtf8Offset(bytes)})`, { source });
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const parsed = parseIJson(text);
  if (parsed.syntax !== undefined) throw new ProcctlError('ERR_INPUT_INVALID', `inputs from ${source} are not valid JSON: ${parsed.syntax}`, { source });
  if (parsed.problem) throw iJsonError(parsed.problem, source);
  return checkInputs(parsed.value, source);
}

/** An I-JSON problem as the input error it is: a lone surrogate is an encoding error. */
export function iJsonError(problem: JsonProblem, source: string): ProcctlError {
  const code = problem.kind === 'surrogate' ? 'ERR_INPUT_ENCODING' : 'ERR_INPUT_INVALID';
  return new ProcctlError(code, `inputs from ${source} are not I-JSON: ${problem.message}`, { source, pointer: problem.pointer, problem: problem.kind });
}

/**
 * Checks inputs handed over as a value: I-JSON first (depth, lone surrogates, finite numbers,
 * JSON types only; iterative, so any depth is safe), then the inputs v1 schema.
 */
/**
 * The I-JSON rules alone (depth included): what must hold before anything else walks the value,
 * since a walk of a value nested past the limit could overflow the stack.
 */
export function checkIJson(value: unknown, source: string): void {
  const problem = jsonValueProblem(value);
  if (problem) throw iJsonError(problem, source);
}

export function checkInputs(value: unknown, source: string): InputsV1 {
  checkIJson(value, source);
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && 'schema' in value && value.schema !== 'v1') {
    throw new ProcctlError('ERR_INPUT_INVALID', `inputs from ${source} have schema ${JSON.stringify(value.schema)}; this procctl reads schema "v1"`, { source, pointer: '/schema' });
  }
  const problems = validateAgainst(INPUTS_V1_SCHEMA, value);
  if (problems.length > 0) {
    throw new ProcctlError('ERR_INPUT_INVALID', `inputs from ${source} are not valid: ${formatProblems(problems, 'inputs')}`, { source, problems: problems.map((p) => ({ ...p })) });
  }
  return value as InputsV1;
}

/**
 * Settles the mode: the inputs' own `mode`, else the requested one, else mock. A request that
 * contradicts the inputs is an error rather than a silent pick.
 */
export function resolveMode(inputs: InputsV1, requested: Mode | undefined): ResolvedInputs {
  if (requested !== undefined && inputs.mode !== undefined && inputs.mode !== requested) {
    throw new ProcctlError('ERR_INPUT_INVALID', `--mode ${requested} contradicts "mode":"${inputs.mode}" in the inputs; drop one of them`, { pointer: '/mode' });
  }
  return { ...inputs, mode: inputs.mode ?? requested ?? 'mock' };
}

/** The hash of the canonical inputs, attachments already replaced by their content ids. */
export function inputsHash(inputs: ResolvedInputs): string {
  return canonicalContentId(inputs);
}

function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  // Streaming decode throws only on bytes that can never become valid, so feeding chunks finds the
  // bad chunk and then the bad byte; a sequence cut short by the end of input fails at the end.
  const CHUNK = 65536;
  let decoder = new TextDecoder('utf-8', { fatal: true });
  let chunkStart = 0;
  try {
    for (; chunkStart < bytes.byteLength; chunkStart += CHUNK) decoder.decode(bytes.subarray(chunkStart, chunkStart + CHUNK), { stream: true });
    decoder.decode();
    return bytes.byteLength;
  } catch {
    if (chunkStart >= bytes.byteLength) return bytes.byteLength;
  }
  decoder = new TextDecoder('utf-8', { fatal: true });
  decoder.decode(bytes.subarray(0, chunkStart), { stream: true });
  for (let i = chunkStart; i < bytes.byteLength; i++) {
    try {
      decoder.decode(bytes.subarray(i, i + 1), { stream: true });
    } catch {
      return sequenceStart(bytes, i);
    }
  }
  return bytes.byteLength;
}

/** The decoder notices a cut-short sequence only at the byte after it; point at its lead byte. */
function sequenceStart(bytes: Uint8Array, failedAt: number): number {
  const isContinuation = (b: number | undefined) => b !== undefined && (b & 0xc0) === 0x80;
  if (isContinuation(bytes[failedAt])) return failedAt;
  let k = failedAt - 1;
  while (k > failedAt - 4 && isContinuation(bytes[k])) k--;
  return k >= 0 && (bytes[k] ?? 0) >= 0xc0 ? k : failedAt;
}
