// One executor run end to end: read the payload, validate it, run the command, build the result,
// write the result file, print the result line. Never throws: every failure becomes a result.
import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { ERROR_CODES, type ExecutionResult, type ExecutorPayload } from './contract.js';
import { EXECUTOR_IO_VARIABLES, readConfig, type ExecutorConfig } from './config.js';
import { ExecutorInfraError, type ExecutorError } from './errors.js';
import { readPayloadText, type StdinLike } from './input.js';
import { resultLine, startMarkerLines, writeResultFile } from './output.js';
import { exitCodeFor, resultFromError, resultFromRun, type ResultContext } from './result.js';
import { runCommand } from './runner.js';
import { parsePayloadJson, salvageEcho, validatePayload } from './validate.js';

export interface ExecutorOptions {
  payloadFile?: string | undefined;
  payloadJson?: string | undefined;
  outputFile?: string | undefined;
  /** defaults to process.env; also the base environment of the command. */
  env?: NodeJS.ProcessEnv;
  /** stdin as a last-resort payload source (a thunk, so it is only touched when needed). */
  stdin?: () => StdinLike;
  /** aborting cancels the run. */
  signal?: AbortSignal;
  /** report this error as the result without reading a payload (e.g. a bad command line). */
  failBeforePayload?: unknown;
  /** where stdout lines go; defaults to process.stdout. */
  writeLine?: (line: string) => void;
}

export interface ExecutorRun {
  result: ExecutionResult;
  /** the exit code the executor process should end with. */
  exitCode: number;
}

const defaultWriteLine = (line: string): void => {
  process.stdout.write(line + '\n');
};

/** What running one validated payload needs, wherever it runs (here, or dispatched to Docker). */
export interface PayloadRun {
  config: ExecutorConfig;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal | undefined;
  writeLine: (line: string) => void;
  ctx: ResultContext;
}

/** Run an already validated payload (used by the CLI path below and by workspace dispatch). */
export async function executePayload(payload: ExecutorPayload, opts: PayloadRun): Promise<ExecutionResult> {
  const startedAt = new Date();
  const { config, ctx } = opts;
  const cwd = resolve(payload.cwd ?? config.defaultCwd);
  ctx.provider_metadata.cwd = cwd;
  try {
    await mkdir(cwd, { recursive: true });
  } catch (err) {
    return resultFromError(
      new ExecutorInfraError(ERROR_CODES.cwd_unavailable, `cannot create working directory ${cwd}: ${(err as Error).message}`, {
        cwd,
      }),
      startedAt,
      ctx,
    );
  }

  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(opts.env)) if (value !== undefined) env[key] = value;
  for (const key of EXECUTOR_IO_VARIABLES) delete env[key];
  Object.assign(env, payload.env);

  const viaShell = payload.shell_command !== undefined;
  const [file, ...args] = viaShell ? ['bash', '-c', payload.shell_command as string] : (payload.command as string[]);
  const outcome = await runCommand({
    file: file as string,
    args,
    cwd,
    env,
    stdin: payload.stdin,
    timeoutMs: payload.timeout_seconds * 1000,
    captureLimitBytes: payload.capture_limit_bytes,
    killGraceMs: config.killGraceMs,
    lingerMs: config.lingerMs,
    signal: opts.signal,
    onSpawn: () => {
      if (payload.emit_start_markers) for (const line of startMarkerLines()) opts.writeLine(line);
    },
  });
  return resultFromRun(
    outcome,
    { timeoutSeconds: payload.timeout_seconds, captureLimitBytes: payload.capture_limit_bytes, viaShell },
    ctx,
  );
}

/** What to do with a validated payload: run it here, or hand it to a provider. */
export type PayloadHandler = (
  payload: ExecutorPayload,
  run: { config: ExecutorConfig; env: NodeJS.ProcessEnv; signal?: AbortSignal | undefined; writeLine: (line: string) => void; ctx: ResultContext },
) => Promise<ExecutionResult>;

/**
 * The frame shared by `llmctl-executor` and `procctl exec`: read and validate the payload, hand it
 * to `handler`, write the result file, print the result line. Never throws: every failure
 * becomes a result. `transform` may adjust the payload (e.g. a --provider override) first.
 */
export async function runWithPayload(
  opts: ExecutorOptions,
  handler: PayloadHandler,
  transform?: (payload: ExecutorPayload) => ExecutorPayload,
): Promise<ExecutorRun> {
  const startedAt = new Date();
  const env = opts.env ?? process.env;
  const writeLine = opts.writeLine ?? defaultWriteLine;
  const config = readConfig(env);
  const ctx: ResultContext = {
    provider_metadata: { executor: 'llmctl-executor', hostname: hostname(), executor_pid: process.pid },
    warnings: [...config.warnings],
  };

  let result: ExecutionResult;
  try {
    if (opts.failBeforePayload !== undefined) throw opts.failBeforePayload;
    const { text, source } = await readPayloadText({
      payloadFile: opts.payloadFile,
      payloadJson: opts.payloadJson,
      env,
      stdin: opts.stdin,
      stdinWaitMs: config.stdinWaitMs,
    });
    ctx.provider_metadata.payload_source = source;
    const raw = parsePayloadJson(text);
    Object.assign(ctx, salvageEcho(raw));
    const validated = validatePayload(raw);
    const payload = transform ? transform(validated.payload) : validated.payload;
    ctx.warnings.push(...validated.warnings);
    ctx.provider_metadata.provider = payload.provider;
    ctx.provider_metadata.command_kind = payload.command ? 'command' : 'shell_command';
    result = await handler(payload, { config, env, signal: opts.signal, writeLine, ctx });
  } catch (err) {
    result = resultFromError(err, startedAt, ctx);
  }

  const outputFile = opts.outputFile ?? config.outputFile;
  if (outputFile !== undefined) {
    try {
      await writeResultFile(outputFile, result);
    } catch (err) {
      // The caller asked for the file and will not find it: that is a failure of the executor,
      // but the command's own outcome is kept in the details.
      const failure = new ExecutorInfraError(
        ERROR_CODES.output_file,
        `cannot write result file ${outputFile}: ${(err as Error).message}`,
        { output_file: outputFile, command_status: result.status, command_exit_code: result.exit_code },
      );
      result = { ...result, status: 'infra_error', exit_code: failure.exitCode, error: errorOf(failure) };
    }
  }
  writeLine(resultLine(result));
  return { result, exitCode: exitCodeFor(result) };
}

/** The whole `llmctl-executor` behaviour, minus process wiring (argv, signals, exit). */
export function runExecutor(opts: ExecutorOptions = {}): Promise<ExecutorRun> {
  return runWithPayload(opts, executePayload);
}

function errorOf(err: ExecutorError): NonNullable<ExecutionResult['error']> {
  return { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) };
}
