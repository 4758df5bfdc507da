// Test support for the executor: run the real compiled bins as child processes and read back
// their stdout contract (start markers, one LLMCTL_EXECUTOR_RESULT_JSON= line).
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import Docker from 'dockerode';
import type { ExecutionResult } from '../../src/executor/contract.js';
import { DOCKER_OFF_REASON, DOCKER_TESTS_OFF } from '../helpers/docker.js';

const here = dirname(fileURLToPath(import.meta.url));
/** Repository root (this file runs from dist/test/executor). */
export const REPO = resolve(here, '../../..');
export const EXECUTOR_BIN = join(REPO, 'dist/src/cli/llmctl-executor.js');
export const EXEC_FIXTURE = join(REPO, 'dist/test/executor/fixtures/exec-cli.js');
export const RESULT_PREFIX = 'LLMCTL_EXECUTOR_RESULT_JSON=';

export interface BinRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  lines: string[];
  result: ExecutionResult;
}

export interface BinOptions {
  env?: Record<string, string | undefined>;
  /** text written to the executor's stdin and closed; undefined → stdin is /dev/null. */
  input?: string;
  stdio?: StdioOptions;
  /** called with the child right after spawn (e.g. to signal it later). */
  onSpawn?: (child: ChildProcess) => void;
  /** called with each complete stdout line as it arrives. */
  onLine?: (line: string, child: ChildProcess) => void;
}

/** A fresh temporary directory. */
export function tempDir(prefix = 'llmctl-exec-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Environment for the bin: the test's own, minus anything that could pick a payload. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('LLMCTL_EXECUTOR_')) delete env[key];
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** Parse the executor's stdout: the last line must be the result line. */
export function parseOutput(stdout: string): { lines: string[]; result: ExecutionResult } {
  const lines = stdout.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const last = lines.at(-1) ?? '';
  if (!last.startsWith(RESULT_PREFIX)) throw new Error(`last stdout line is not a result line:\n${stdout.slice(-2000)}`);
  return { lines, result: JSON.parse(last.slice(RESULT_PREFIX.length)) as ExecutionResult };
}

export function runNode(script: string, args: string[], opts: BinOptions = {}): Promise<BinRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      env: cleanEnv(opts.env),
      stdio: opts.stdio ?? [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let partial = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out.push(chunk);
      if (opts.onLine) {
        partial += chunk.toString('utf8');
        let nl: number;
        while ((nl = partial.indexOf('\n')) !== -1) {
          opts.onLine(partial.slice(0, nl), child);
          partial = partial.slice(nl + 1);
        }
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    opts.onSpawn?.(child);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      try {
        const { lines, result } = parseOutput(stdout);
        resolvePromise({ code, signal, stdout, stderr, lines, result });
      } catch (e) {
        reject(new Error(`${(e as Error).message}\nexit=${code} signal=${signal}\nstderr:\n${stderr}`));
      }
    });
  });
}

/** Run llmctl-executor with the given arguments. */
export function runExecutor(args: string[], opts: BinOptions = {}): Promise<BinRun> {
  return runNode(EXECUTOR_BIN, args, opts);
}

/** Run llmctl-executor with a payload given as --payload-json. */
export function runPayload(payload: Record<string, unknown>, opts: BinOptions = {}): Promise<BinRun> {
  return runExecutor(['--payload-json', JSON.stringify(payload)], opts);
}

/** Run `exec` (registered by registerExecCommand) through the fixture host program. */
export function runExec(args: string[], opts: BinOptions = {}): Promise<BinRun> {
  return runNode(EXEC_FIXTURE, ['exec', ...args], opts);
}

/** A minimal valid payload plus overrides. */
export function payload(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { contract_version: 'v1', provider: 'workspace', ...overrides };
}

/** Whether a process exists (zombies included: callers wait for it to be reaped). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Wait until `check` is true, polling. This is a liveness wait, not a timing assertion: the cap
 * only turns a hang into a failure with a message.
 */
export async function eventually(check: () => boolean, what: string, capMs = 30_000): Promise<void> {
  const until = Date.now() + capMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`still not true after ${capMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let dockerPing: Promise<string | undefined> | undefined;

/** undefined when the engine answers, else why not. */
export function dockerUnavailable(): Promise<string | undefined> {
  if (DOCKER_TESTS_OFF) return Promise.resolve(DOCKER_OFF_REASON);
  dockerPing ??= new Docker({ version: 'v1.41' }).ping().then(
    () => undefined,
    (err: unknown) => (err instanceof Error ? err.message : String(err)),
  );
  return dockerPing;
}

/**
 * True when a Docker test may go on. Without an engine it skips, saying why, only when CI is not
 * set; under CI a missing engine is a failure (.ci/run starts one).
 */
export async function needDocker(t: TestContext): Promise<boolean> {
  if (DOCKER_TESTS_OFF) {
    t.skip(DOCKER_OFF_REASON);
    return false;
  }
  const why = await dockerUnavailable();
  if (why === undefined) return true;
  if (process.env.CI) throw new Error(`CI is set but the Docker engine does not answer: ${why}`);
  t.skip(`Docker engine not reachable (${why}); skipped because CI is not set`);
  return false;
}
