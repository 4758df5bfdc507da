// Typed errors of the executor library. Each carries the result error code and the process exit
// code it maps to, so whoever catches it can build a result without guessing.
import { ERROR_CODES, EXIT_CODES } from './contract.js';

export interface PayloadIssue {
  /** dotted field path, e.g. `timeout_seconds` or `env.PATH`; `payload` for the whole document. */
  field: string;
  message: string;
}

/** The message of anything thrown (an Error's, else the value as text), for a result's error. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Base class: something the executor could not do. */
export class ExecutorError extends Error {
  readonly code: string;
  readonly exitCode: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, exitCode: number, details?: Record<string, unknown>) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
    this.details = details;
  }
}

/** The payload failed validation; `issues` names every offending field. */
export class PayloadValidationError extends ExecutorError {
  readonly issues: PayloadIssue[];

  constructor(issues: PayloadIssue[]) {
    const first = issues[0];
    const summary = first ? `${first.field}: ${first.message}` : 'invalid payload';
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    super(ERROR_CODES.invalid_payload, `invalid payload: ${summary}${more}`, EXIT_CODES.invalid_input, {
      issues,
    });
    this.issues = issues;
  }
}

/** No payload could be read (missing file, no source at all, silent stdin, too large). */
export class PayloadSourceError extends ExecutorError {
  constructor(message: string, details?: Record<string, unknown>) {
    super(ERROR_CODES.payload_source, message, EXIT_CODES.invalid_input, details);
  }
}

/** The executor's own environment failed it (cwd, shell, output file). */
export class ExecutorInfraError extends ExecutorError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(code, message, EXIT_CODES.infra_error, details);
  }
}
