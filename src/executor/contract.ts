// The ExecutionResult v1 and payload v1 contracts of llmctl-executor, as types and constants.
// One place for every name, default, bound and exit code, so the runner, the dispatchers, the
// CLI and the docs cannot drift apart.

export const CONTRACT_VERSION = 'v1' as const;

export const PROVIDERS = ['workspace', 'docker', 'kubernetes'] as const;
export type Provider = (typeof PROVIDERS)[number];

/** Markers the executor prints on stdout; dispatchers parse them back out of container logs. */
export const STARTED_MARKER = 'LLMCTL_EXECUTOR_STARTED';
export const RESULT_LINE_PREFIX = 'LLMCTL_EXECUTOR_RESULT_JSON=';

export const DEFAULT_CWD = '/tmp/llmctl-workspace';
export const DEFAULT_TIMEOUT_SECONDS = 1800;
export const DEFAULT_CAPTURE_LIMIT_BYTES = 1_000_000;

// Bounds: a week is longer than any single command we expect to supervise, and 16 MiB per
// stream keeps the executor's memory (and the one result line) bounded whatever is asked.
export const MIN_TIMEOUT_SECONDS = 1;
export const MAX_TIMEOUT_SECONDS = 7 * 24 * 3600;
export const MIN_CAPTURE_LIMIT_BYTES = 0;
export const MAX_CAPTURE_LIMIT_BYTES = 16 * 1024 * 1024;
/** Largest payload document accepted from any source (file, flag, env, stdin). */
export const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

/** A validated payload with every default filled in. */
export interface ExecutorPayload {
  contract_version: typeof CONTRACT_VERSION;
  provider: Provider;
  /** argv form; exactly one of command / shell_command is set. */
  command?: string[];
  /** run through `bash -c`. */
  shell_command?: string;
  request_id?: string;
  /** undefined → LLMCTL_EXECUTOR_DEFAULT_CWD or DEFAULT_CWD, resolved at run time. */
  cwd?: string;
  env: Record<string, string>;
  stdin?: string;
  timeout_seconds: number;
  capture_limit_bytes: number;
  emit_start_markers: boolean;
  result_contract_version?: typeof CONTRACT_VERSION;
  metadata?: Record<string, unknown>;
}

export const RUN_STATUSES = ['success', 'failed', 'timeout', 'cancelled', 'infra_error'] as const;
export const DISPATCH_STATUSES = ['dispatch_failed', 'dispatch_uncertain'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export type DispatchStatus = (typeof DISPATCH_STATUSES)[number];
export type ResultStatus = RunStatus | DispatchStatus;

export interface ResultError {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export interface ResultMetrics {
  duration_ms: number;
  stdout_bytes?: number;
  stderr_bytes?: number;
  stdout_captured_bytes?: number;
  stderr_captured_bytes?: number;
  /** peak resident set of the executor process itself (process.resourceUsage().maxRSS). */
  executor_max_rss_bytes?: number;
  [key: string]: number | undefined;
}

export interface ExecutionResult {
  contract_version: typeof CONTRACT_VERSION;
  status: ResultStatus;
  exit_code: number | null;
  started_at: string;
  finished_at: string;
  stdout: string;
  stderr: string;
  error: ResultError | null;
  provider_metadata: Record<string, unknown>;
  request_id?: string;
  metadata?: Record<string, unknown>;
  usage?: Record<string, unknown>;
  artifacts?: unknown[];
  warnings?: string[];
  metrics?: ResultMetrics;
}

/**
 * Exit codes of the executor process (and of `procctl exec`). success/failed mirror the child;
 * the rest are fixed so a caller without a JSON parser can still branch. A child may itself exit
 * 2..5, so the result line, not the exit code, is the authority.
 */
export const EXIT_CODES = {
  success: 0,
  timeout: 124,
  cancelled: 130,
  /** the payload or the command line was unusable (usage error). */
  invalid_input: 2,
  /** the executor could not do its job (cwd, shell, output file, internal error). */
  infra_error: 3,
  dispatch_failed: 4,
  dispatch_uncertain: 5,
} as const;

/** Error codes carried in `result.error.code`. */
export const ERROR_CODES = {
  invalid_payload: 'invalid_payload',
  payload_source: 'payload_source',
  nonzero_exit: 'nonzero_exit',
  killed_by_signal: 'killed_by_signal',
  command_not_found: 'command_not_found',
  command_not_executable: 'command_not_executable',
  timeout: 'timeout',
  cancelled: 'cancelled',
  cwd_unavailable: 'cwd_unavailable',
  spawn_failed: 'spawn_failed',
  output_file: 'output_file',
  internal: 'internal',
  provider_unavailable: 'provider_unavailable',
  dispatch_failed: 'dispatch_failed',
  dispatch_uncertain: 'dispatch_uncertain',
} as const;

/** The executor image `procctl exec --provider docker` runs unless told otherwise. */
export const DEFAULT_EXECUTOR_IMAGE = 'llmctl-executor:latest';
