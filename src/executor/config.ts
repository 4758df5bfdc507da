// Executor tunables read from the environment. They are operator settings (how long to wait for
// stdin, how long a SIGTERM grace lasts), not part of the payload contract.
import { DEFAULT_CWD } from './contract.js';
import { DEFAULT_STDIN_WAIT_MS } from './input.js';

export interface ExecutorConfig {
  defaultCwd: string;
  killGraceMs: number;
  stdinWaitMs: number;
  lingerMs: number;
  outputFile: string | undefined;
  /** problems with the settings themselves, reported as result warnings. */
  warnings: string[];
}

export const DEFAULT_KILL_GRACE_SECONDS = 5;
export const DEFAULT_LINGER_MS = 1000;

function number(env: NodeJS.ProcessEnv, name: string, fallback: number, warnings: string[]): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    warnings.push(`${name}=${JSON.stringify(raw)} is not a non-negative number; using ${fallback}`);
    return fallback;
  }
  return value;
}

export function readConfig(env: NodeJS.ProcessEnv): ExecutorConfig {
  const warnings: string[] = [];
  return {
    defaultCwd: env.LLMCTL_EXECUTOR_DEFAULT_CWD || DEFAULT_CWD,
    killGraceMs: number(env, 'LLMCTL_EXECUTOR_KILL_GRACE_SECONDS', DEFAULT_KILL_GRACE_SECONDS, warnings) * 1000,
    stdinWaitMs: number(env, 'LLMCTL_EXECUTOR_STDIN_WAIT_MS', DEFAULT_STDIN_WAIT_MS, warnings),
    lingerMs: DEFAULT_LINGER_MS,
    outputFile: env.LLMCTL_EXECUTOR_OUTPUT_FILE || undefined,
    warnings,
  };
}

/** Variables that carry the executor's own input/output and are not passed on to the command. */
export const EXECUTOR_IO_VARIABLES = [
  'LLMCTL_EXECUTOR_PAYLOAD_FILE',
  'LLMCTL_EXECUTOR_PAYLOAD_JSON',
  'LLMCTL_EXECUTOR_OUTPUT_FILE',
] as const;
