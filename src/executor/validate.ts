// Payload v1 validation: turns untrusted JSON into an ExecutorPayload with defaults filled in,
// or throws PayloadValidationError naming every bad field. `null` on an optional field means
// "not set" (callers serialising optional values from other languages often send null).
import { jsonValueProblem, parseIJson, type JsonProblem } from '../contracts/i-json.js';
import {
  CONTRACT_VERSION,
  DEFAULT_CAPTURE_LIMIT_BYTES,
  DEFAULT_TIMEOUT_SECONDS,
  MAX_CAPTURE_LIMIT_BYTES,
  MAX_TIMEOUT_SECONDS,
  MIN_CAPTURE_LIMIT_BYTES,
  MIN_TIMEOUT_SECONDS,
  PROVIDERS,
  type ExecutorPayload,
  type Provider,
} from './contract.js';
import { PayloadValidationError, type PayloadIssue } from './errors.js';

const KNOWN_FIELDS = new Set([
  'contract_version',
  'provider',
  'command',
  'shell_command',
  'request_id',
  'cwd',
  'env',
  'stdin',
  'timeout_seconds',
  'capture_limit_bytes',
  'emit_start_markers',
  'result_contract_version',
  'metadata',
]);

export interface ValidatedPayload {
  payload: ExecutorPayload;
  /** non-fatal findings, e.g. unknown fields that were ignored. */
  warnings: string[];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}

// spawn() rejects strings holding NUL bytes with a generic error; catch them here by field.
const hasNul = (s: string): boolean => s.includes('\0');

/**
 * Parse payload text as I-JSON (no duplicate member names, no lone surrogates, finite numbers,
 * nesting within MAX_JSON_DEPTH): the payload is checked whole before any command runs, and what
 * is echoed into the result line is then always printable. Failures are a `payload` issue.
 */
export function parsePayloadJson(text: string): unknown {
  const parsed = parseIJson(text);
  if (parsed.syntax !== undefined) throw new PayloadValidationError([{ field: 'payload', message: `not valid JSON (${parsed.syntax})` }]);
  if (parsed.problem) throw iJsonIssue(parsed.problem);
  return parsed.value;
}

function iJsonIssue(problem: JsonProblem): PayloadValidationError {
  return new PayloadValidationError([{ field: 'payload', message: `not I-JSON: ${problem.message}` }]);
}

/** Parse JSON text and validate it. Parse failures are reported as a `payload` issue. */
export function parsePayload(text: string): ValidatedPayload {
  return validatePayload(parsePayloadJson(text));
}

export function validatePayload(raw: unknown): ValidatedPayload {
  const problem = jsonValueProblem(raw);
  if (problem) throw iJsonIssue(problem);
  if (!isPlainObject(raw)) {
    throw new PayloadValidationError([{ field: 'payload', message: `must be a JSON object, got ${describe(raw)}` }]);
  }
  const issues: PayloadIssue[] = [];
  const warnings: string[] = [];
  const bad = (field: string, message: string): void => {
    issues.push({ field, message });
  };
  const present = (key: string): boolean => raw[key] !== undefined && raw[key] !== null;

  for (const key of Object.keys(raw)) {
    if (!KNOWN_FIELDS.has(key)) warnings.push(`unknown payload field '${key}' ignored`);
  }

  if (!present('contract_version')) bad('contract_version', 'is required and must be "v1"');
  else if (raw.contract_version !== CONTRACT_VERSION)
    bad('contract_version', `must be "v1", got ${describe(raw.contract_version)}`);

  let provider: Provider | undefined;
  if (!present('provider')) bad('provider', `is required (one of ${PROVIDERS.join('|')})`);
  else if (!(PROVIDERS as readonly unknown[]).includes(raw.provider))
    bad('provider', `must be one of ${PROVIDERS.join('|')}, got ${describe(raw.provider)}`);
  else provider = raw.provider as Provider;

  let command: string[] | undefined;
  let shellCommand: string | undefined;
  const hasCommand = present('command');
  const hasShell = present('shell_command');
  if (hasCommand && hasShell) {
    bad('command', 'exactly one of command / shell_command may be set, got both');
  } else if (!hasCommand && !hasShell) {
    bad('command', 'exactly one of command (non-empty string array) / shell_command (non-empty string) is required');
  } else if (hasCommand) {
    const value = raw.command;
    if (!Array.isArray(value)) bad('command', `must be a non-empty array of strings, got ${describe(value)}`);
    else if (value.length === 0) bad('command', 'must be a non-empty array of strings, got []');
    else {
      let ok = true;
      value.forEach((item, i) => {
        if (typeof item !== 'string') {
          bad(`command[${i}]`, `must be a string, got ${describe(item)}`);
          ok = false;
        } else if (hasNul(item)) {
          bad(`command[${i}]`, 'must not contain NUL bytes');
          ok = false;
        }
      });
      if (ok && (value[0] as string).length === 0) {
        bad('command[0]', 'the program name must not be empty');
        ok = false;
      }
      if (ok) command = value as string[];
    }
  } else {
    const value = raw.shell_command;
    if (typeof value !== 'string') bad('shell_command', `must be a non-empty string, got ${describe(value)}`);
    else if (value.trim().length === 0) bad('shell_command', 'must be a non-empty string');
    else if (hasNul(value)) bad('shell_command', 'must not contain NUL bytes');
    else shellCommand = value;
  }

  const optionalString = (key: string, allowEmpty: boolean): string | undefined => {
    if (!present(key)) return undefined;
    const value = raw[key];
    if (typeof value !== 'string') {
      bad(key, `must be a string, got ${describe(value)}`);
      return undefined;
    }
    if (!allowEmpty && value.length === 0) {
      bad(key, 'must not be empty');
      return undefined;
    }
    if (hasNul(value)) {
      bad(key, 'must not contain NUL bytes');
      return undefined;
    }
    return value;
  };
  const requestId = optionalString('request_id', true);
  const cwd = optionalString('cwd', false);
  // stdin is data, not an argv/path: NUL bytes are legitimate there.
  let stdin: string | undefined;
  if (present('stdin')) {
    if (typeof raw.stdin !== 'string') bad('stdin', `must be a string, got ${describe(raw.stdin)}`);
    else stdin = raw.stdin;
  }

  const env: Record<string, string> = {};
  if (present('env')) {
    if (!isPlainObject(raw.env)) bad('env', `must be an object of string values, got ${describe(raw.env)}`);
    else {
      for (const [key, value] of Object.entries(raw.env)) {
        if (key.length === 0 || key.includes('=') || hasNul(key)) {
          bad(`env.${key}`, 'variable names must be non-empty and contain neither "=" nor NUL');
        } else if (typeof value !== 'string') {
          bad(`env.${key}`, `must be a string, got ${describe(value)}`);
        } else if (hasNul(value)) {
          bad(`env.${key}`, 'must not contain NUL bytes');
        } else env[key] = value;
      }
    }
  }

  const integerIn = (key: string, min: number, max: number, fallback: number): number => {
    if (!present(key)) return fallback;
    const value = raw[key];
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      bad(key, `must be an integer, got ${describe(value)}`);
      return fallback;
    }
    if (value < min || value > max) {
      bad(key, `must be between ${min} and ${max}, got ${value}`);
      return fallback;
    }
    return value;
  };
  const timeoutSeconds = integerIn('timeout_seconds', MIN_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS, DEFAULT_TIMEOUT_SECONDS);
  const captureLimit = integerIn(
    'capture_limit_bytes',
    MIN_CAPTURE_LIMIT_BYTES,
    MAX_CAPTURE_LIMIT_BYTES,
    DEFAULT_CAPTURE_LIMIT_BYTES,
  );

  let emitStartMarkers = true;
  if (present('emit_start_markers')) {
    if (typeof raw.emit_start_markers !== 'boolean')
      bad('emit_start_markers', `must be a boolean, got ${describe(raw.emit_start_markers)}`);
    else emitStartMarkers = raw.emit_start_markers;
  }

  if (present('result_contract_version') && raw.result_contract_version !== CONTRACT_VERSION)
    bad('result_contract_version', `must be "v1" when set, got ${describe(raw.result_contract_version)}`);

  let metadata: Record<string, unknown> | undefined;
  if (present('metadata')) {
    if (!isPlainObject(raw.metadata)) bad('metadata', `must be an object, got ${describe(raw.metadata)}`);
    else metadata = raw.metadata;
  }

  if (issues.length > 0 || provider === undefined) throw new PayloadValidationError(issues);

  const payload: ExecutorPayload = {
    contract_version: CONTRACT_VERSION,
    provider,
    env,
    timeout_seconds: timeoutSeconds,
    capture_limit_bytes: captureLimit,
    emit_start_markers: emitStartMarkers,
  };
  if (command) payload.command = command;
  if (shellCommand !== undefined) payload.shell_command = shellCommand;
  if (requestId !== undefined) payload.request_id = requestId;
  if (cwd !== undefined) payload.cwd = cwd;
  if (stdin !== undefined) payload.stdin = stdin;
  if (present('result_contract_version')) payload.result_contract_version = CONTRACT_VERSION;
  if (metadata) payload.metadata = metadata;
  return { payload, warnings };
}

/**
 * Best-effort echo fields from a payload that failed validation, so even an infra_error result
 * carries the caller's request_id and metadata when they were well-formed.
 */
export function salvageEcho(raw: unknown): { request_id?: string; metadata?: Record<string, unknown> } {
  const echo: { request_id?: string; metadata?: Record<string, unknown> } = {};
  if (!isPlainObject(raw)) return echo;
  if (typeof raw.request_id === 'string') echo.request_id = raw.request_id;
  if (isPlainObject(raw.metadata)) echo.metadata = raw.metadata;
  return echo;
}
