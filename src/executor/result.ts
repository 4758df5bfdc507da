// Building ExecutionResult v1 objects: from a finished run, or from a failure before/around it.
// Also maps a result to the executor's process exit code.
import { constants as osConstants } from 'node:os';
import {
  CONTRACT_VERSION,
  ERROR_CODES,
  EXIT_CODES,
  type ExecutionResult,
  type ResultError,
  type ResultMetrics,
  type ResultStatus,
} from './contract.js';
import type { CapturedText } from './capture.js';
import { errorMessage, ExecutorError } from './errors.js';
import type { RunOutcome } from './runner.js';

export interface ResultContext {
  request_id?: string | undefined;
  metadata?: Record<string, unknown> | undefined;
  provider_metadata: Record<string, unknown>;
  warnings: string[];
}

function maxRssBytes(): number {
  // resourceUsage().maxRSS is in kilobytes.
  return process.resourceUsage().maxRSS * 1024;
}

function finalize(result: ExecutionResult, ctx: ResultContext): ExecutionResult {
  if (ctx.request_id !== undefined) result.request_id = ctx.request_id;
  if (ctx.metadata !== undefined) result.metadata = ctx.metadata;
  if (ctx.warnings.length > 0) result.warnings = [...ctx.warnings];
  return result;
}

function captureWarnings(name: 'stdout' | 'stderr', cap: CapturedText, limit: number): string[] {
  const warnings: string[] = [];
  if (cap.droppedBytes > 0)
    warnings.push(
      `${name} truncated: kept ${cap.capturedBytes} of ${cap.totalBytes} bytes (capture_limit_bytes=${limit}), dropped ${cap.droppedBytes} bytes`,
    );
  if (!cap.validUtf8) warnings.push(`${name} was not valid UTF-8; invalid bytes were replaced with U+FFFD`);
  return warnings;
}

/** Status, exit code and error for a run that got as far as spawning (or trying to). */
function classify(outcome: RunOutcome, timeoutSeconds: number, viaShell: boolean): {
  status: ResultStatus;
  exitCode: number | null;
  error: ResultError | null;
} {
  switch (outcome.end) {
    case 'exited': {
      const code = outcome.exitCode ?? 0;
      if (code === 0) return { status: 'success', exitCode: 0, error: null };
      return {
        status: 'failed',
        exitCode: code,
        error: { code: ERROR_CODES.nonzero_exit, message: `command exited with code ${code}`, details: { exit_code: code } },
      };
    }
    case 'signaled': {
      const sig = outcome.signal ?? 'SIGKILL';
      const num = osConstants.signals[sig] ?? 9;
      // 128+n is what a shell reports for a child killed by signal n.
      return {
        status: 'failed',
        exitCode: 128 + num,
        error: {
          code: ERROR_CODES.killed_by_signal,
          message: `command was killed by ${sig}`,
          details: { signal: sig, exit_code: 128 + num },
        },
      };
    }
    case 'timeout':
      return {
        status: 'timeout',
        exitCode: EXIT_CODES.timeout,
        error: {
          code: ERROR_CODES.timeout,
          message: `command did not finish within timeout_seconds=${timeoutSeconds}; its process group was stopped`,
          details: { timeout_seconds: timeoutSeconds, escalated_to_sigkill: outcome.escalatedToKill },
        },
      };
    case 'cancelled':
      return {
        status: 'cancelled',
        exitCode: EXIT_CODES.cancelled,
        error: {
          code: ERROR_CODES.cancelled,
          message: 'the executor was asked to stop; the command process group was stopped',
          details: { escalated_to_sigkill: outcome.escalatedToKill },
        },
      };
    case 'spawn_error': {
      const err = outcome.spawnError;
      const errno = err?.code;
      // With shell_command a missing bash is the executor's environment failing, not the payload.
      if (viaShell)
        return {
          status: 'infra_error',
          exitCode: EXIT_CODES.infra_error,
          error: {
            code: ERROR_CODES.spawn_failed,
            message: `cannot start bash for shell_command: ${err?.message ?? 'unknown error'}`,
            details: { errno },
          },
        };
      // A missing or non-executable program gets the exit codes a shell would give (127/126), so
      // `command` and `shell_command` agree on the same mistake.
      if (errno === 'ENOENT')
        return {
          status: 'failed',
          exitCode: 127,
          error: { code: ERROR_CODES.command_not_found, message: `command not found: ${err?.message ?? ''}`, details: { errno } },
        };
      if (errno === 'EACCES' || errno === 'ENOEXEC')
        return {
          status: 'failed',
          exitCode: 126,
          error: {
            code: ERROR_CODES.command_not_executable,
            message: `command cannot be executed: ${err?.message ?? ''}`,
            details: { errno },
          },
        };
      return {
        status: 'infra_error',
        exitCode: EXIT_CODES.infra_error,
        error: { code: ERROR_CODES.spawn_failed, message: `cannot start command: ${err?.message ?? 'unknown error'}`, details: { errno } },
      };
    }
  }
}

export function resultFromRun(
  outcome: RunOutcome,
  opts: { timeoutSeconds: number; captureLimitBytes: number; viaShell: boolean },
  ctx: ResultContext,
): ExecutionResult {
  const { status, exitCode, error } = classify(outcome, opts.timeoutSeconds, opts.viaShell);
  const warnings = [
    ...ctx.warnings,
    ...captureWarnings('stdout', outcome.stdout, opts.captureLimitBytes),
    ...captureWarnings('stderr', outcome.stderr, opts.captureLimitBytes),
  ];
  if (outcome.stoppedLeftovers)
    warnings.push('processes left running in the command process group after it exited were stopped');
  if (outcome.abandonedPipes)
    warnings.push('a process outside the command process group kept its output open; capture stopped early');
  const metrics: ResultMetrics = {
    duration_ms: outcome.finishedAt.getTime() - outcome.startedAt.getTime(),
    stdout_bytes: outcome.stdout.totalBytes,
    stderr_bytes: outcome.stderr.totalBytes,
    stdout_captured_bytes: outcome.stdout.capturedBytes,
    stderr_captured_bytes: outcome.stderr.capturedBytes,
    executor_max_rss_bytes: maxRssBytes(),
  };
  const providerMetadata = { ...ctx.provider_metadata };
  if (outcome.pid !== undefined) providerMetadata.pid = outcome.pid;
  return finalize(
    {
      contract_version: CONTRACT_VERSION,
      status,
      exit_code: exitCode,
      started_at: outcome.startedAt.toISOString(),
      finished_at: outcome.finishedAt.toISOString(),
      stdout: outcome.stdout.text,
      stderr: outcome.stderr.text,
      error,
      provider_metadata: providerMetadata,
      metrics,
    },
    { ...ctx, warnings },
  );
}

/** A result for a run that never started or could not be finished: infra_error, or cancelled. */
export function resultFromError(err: unknown, startedAt: Date, ctx: ResultContext): ExecutionResult {
  const finishedAt = new Date();
  const known = err instanceof ExecutorError;
  const error: ResultError = known
    ? { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) }
    : { code: ERROR_CODES.internal, message: `executor failed: ${errorMessage(err)}` };
  return finalize(
    {
      contract_version: CONTRACT_VERSION,
      status: 'infra_error',
      exit_code: known ? err.exitCode : EXIT_CODES.infra_error,
      started_at: startedAt.toISOString(),
      finished_at: finishedAt.toISOString(),
      stdout: '',
      stderr: '',
      error,
      provider_metadata: ctx.provider_metadata,
      metrics: { duration_ms: finishedAt.getTime() - startedAt.getTime(), executor_max_rss_bytes: maxRssBytes() },
    },
    ctx,
  );
}

/** The process exit code that mirrors a result (see EXIT_CODES and docs/executor.md). */
export function exitCodeFor(result: ExecutionResult): number {
  switch (result.status) {
    case 'success':
      return 0;
    case 'failed':
      // exit_code is 1..255 for a failed command; guard against 0 so failure never reads as success.
      return result.exit_code && result.exit_code > 0 && result.exit_code < 256 ? result.exit_code : 1;
    case 'timeout':
      return EXIT_CODES.timeout;
    case 'cancelled':
      return EXIT_CODES.cancelled;
    case 'infra_error':
      return result.exit_code === EXIT_CODES.invalid_input ? EXIT_CODES.invalid_input : EXIT_CODES.infra_error;
    case 'dispatch_failed':
      return EXIT_CODES.dispatch_failed;
    case 'dispatch_uncertain':
      return EXIT_CODES.dispatch_uncertain;
  }
}

/**
 * A result for a dispatch that went wrong outside the executor: `dispatch_failed` when the
 * command certainly never ran (safe to retry), `dispatch_uncertain` when it may have run and its
 * outcome cannot be known (never retried automatically).
 */
export function dispatchResult(
  status: 'dispatch_failed' | 'dispatch_uncertain',
  message: string,
  details: Record<string, unknown>,
  startedAt: Date,
  ctx: ResultContext,
  output: { stdout?: string; stderr?: string } = {},
): ExecutionResult {
  const finishedAt = new Date();
  return finalize(
    {
      contract_version: CONTRACT_VERSION,
      status,
      exit_code: null,
      started_at: startedAt.toISOString(),
      finished_at: finishedAt.toISOString(),
      stdout: output.stdout ?? '',
      stderr: output.stderr ?? '',
      error: {
        code: status === 'dispatch_failed' ? ERROR_CODES.dispatch_failed : ERROR_CODES.dispatch_uncertain,
        message,
        details: { ...details, retryable: status === 'dispatch_failed' },
      },
      provider_metadata: ctx.provider_metadata,
      metrics: { duration_ms: finishedAt.getTime() - startedAt.getTime() },
    },
    ctx,
  );
}

/**
 * A run cancelled by the dispatcher: before its command was started (e.g. during Docker dispatch
 * set-up; the default), or by removing where it ran (a Kubernetes Job deleted on Ctrl-C).
 */
export function cancelledBeforeStart(
  startedAt: Date,
  ctx: ResultContext,
  how: { message: string; details: Record<string, unknown> } = { message: 'cancelled before the command was started', details: { started: false } },
): ExecutionResult {
  const finishedAt = new Date();
  return finalize(
    {
      contract_version: CONTRACT_VERSION,
      status: 'cancelled',
      exit_code: EXIT_CODES.cancelled,
      started_at: startedAt.toISOString(),
      finished_at: finishedAt.toISOString(),
      stdout: '',
      stderr: '',
      error: { code: ERROR_CODES.cancelled, message: how.message, details: how.details },
      provider_metadata: ctx.provider_metadata,
      metrics: { duration_ms: finishedAt.getTime() - startedAt.getTime() },
    },
    ctx,
  );
}
