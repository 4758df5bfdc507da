/**
 * The one table of error codes. Every failure a user can see — in an envelope, on stderr, as an
 * exit status — comes from here, so the message, the retry advice and the exit code never drift
 * apart between the CLI, the adapters and the runtime inside a container.
 */
export const ERROR_CODES = {
  ERR_USAGE: { message: 'The command line is not valid', retryable: false, exitCode: 2 },
  ERR_INPUT_INVALID: { message: 'The inputs are not valid', retryable: false, exitCode: 3 },
  ERR_INPUT_TOO_LARGE: { message: 'The inputs are larger than the limit', retryable: false, exitCode: 3 },
  ERR_INPUT_ENCODING: { message: 'The inputs are not valid UTF-8', retryable: false, exitCode: 3 },
  ERR_ATTACHMENT: { message: 'An attachment could not be used', retryable: false, exitCode: 3 },
  ERR_REF_INVALID: { message: 'The processor reference is not valid', retryable: false, exitCode: 3 },
  ERR_PREFIX_TEMPLATE: { message: 'The write prefix template is not valid', retryable: false, exitCode: 3 },
  ERR_EXECUTION_ID: { message: 'The execution id is not valid', retryable: false, exitCode: 3 },
  ERR_EXECUTION_CONFLICT: { message: 'The execution id is taken by other inputs or by a run in progress', retryable: false, exitCode: 3 },
  ERR_PROCESSOR_NOT_FOUND: { message: 'No such processor in the registry', retryable: false, exitCode: 4 },
  ERR_REGISTRY_INVALID: { message: 'A registry entry is not valid', retryable: false, exitCode: 4 },
  ERR_RUN_NOT_FOUND: { message: 'No such execution in the artifact store', retryable: false, exitCode: 4 },
  ERR_MISSING_SECRET: { message: 'A required secret is absent', retryable: false, exitCode: 5 },
  ERR_OUTPUT_PATH: { message: 'An output path is not valid', retryable: false, exitCode: 6 },
  ERR_OUTPUT_DUPLICATE: { message: 'Two outputs have the same path after canonicalisation', retryable: false, exitCode: 6 },
  ERR_ARTIFACT_STORE: { message: 'The artifact store failed', retryable: true, exitCode: 6 },
  ERR_IMAGE_PULL: { message: 'The pinned image could not be pulled', retryable: false, exitCode: 7 },
  ERR_FUNCTION_NOT_FOUND: { message: 'The remote function is not deployed', retryable: false, exitCode: 7 },
  ERR_IMAGE_NOT_PINNED: { message: 'The registry entry pins no image for this platform', retryable: false, exitCode: 7 },
  ERR_IMAGE_BUILD: { message: 'The processor image could not be built or pushed', retryable: false, exitCode: 7 },
  ERR_DIGEST_MISMATCH: { message: 'The running image is not the pinned one', retryable: false, exitCode: 7 },
  ERR_DOCKER_UNAVAILABLE: { message: 'No Docker engine answers', retryable: true, exitCode: 7 },
  ERR_CONTAINER_NOT_RUNNING: { message: 'No started container serves this processor', retryable: false, exitCode: 7 },
  ERR_CONTAINER_EXIT: { message: 'The container stopped during the run', retryable: true, exitCode: 7 },
  ERR_MODAL_UNAVAILABLE: { message: 'Modal cannot be reached', retryable: true, exitCode: 7 },
  ERR_MODAL_AUTH: { message: 'Modal refused the credentials', retryable: false, exitCode: 7 },
  ERR_KUBERNETES_UNAVAILABLE: { message: 'No Kubernetes API server answers, or no kubeconfig names one', retryable: true, exitCode: 7 },
  ERR_TIMEOUT: { message: 'The execution exceeded its runtime limit', retryable: true, exitCode: 8 },
  ERR_CANCELLED: { message: 'The execution was cancelled', retryable: true, exitCode: 8 },
  ERR_PROVIDER: { message: 'The upstream provider returned an error', retryable: true, exitCode: 9 },
  ERR_PROCESSOR_FAILED: { message: 'The processor failed', retryable: false, exitCode: 10 },
  ERR_PROTOCOL: { message: 'The runtime protocol was violated', retryable: false, exitCode: 11 },
  ERR_RUNTIME_AUTH: { message: 'The processor runtime refused the credentials', retryable: false, exitCode: 11 },
  ERR_RUNTIME_BUSY: { message: 'The processor runtime is at its concurrency and queue limits', retryable: true, exitCode: 11 },
  ERR_RUNTIME_UNAVAILABLE: { message: 'The processor runtime cannot be reached or is shutting down', retryable: true, exitCode: 11 },
  ERR_INTERNAL: { message: 'procctl failed unexpectedly', retryable: false, exitCode: 70 },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** JSON-safe detail values only: details go into canonical envelopes. */
export type ErrorDetails = Record<string, unknown>;

/**
 * A failure with a code from the table. `message` says what was wrong and where; the table's
 * message is the generic headline for the code.
 */
export class ProcctlError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails | undefined;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, details?: ErrorDetails, options?: { retryable?: boolean; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProcctlError';
    this.code = code;
    this.details = details;
    this.retryable = options?.retryable ?? ERROR_CODES[code].retryable;
  }

  get exitCode(): number {
    return ERROR_CODES[this.code].exitCode;
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/** Anything thrown becomes a ProcctlError; unknown failures are ERR_INTERNAL with their message. */
export function toProcctlError(err: unknown): ProcctlError {
  if (err instanceof ProcctlError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ProcctlError('ERR_INTERNAL', message, undefined, { cause: err });
}
