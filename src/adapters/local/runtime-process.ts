/**
 * Starts the processor runtime (`procctl-runtime`) as a child process of this one: a fresh token,
 * a free loopback port, the caller's environment (secrets and settings included, as a container
 * would get them at start). Ready means it printed where it listens and /healthz said ok.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { ProcctlError } from '../../contracts/errors.js';
import { runtimeHealth } from '../../protocol/health.js';

export const RUNTIME_BIN = fileURLToPath(new URL('../../cli/procctl-runtime.js', import.meta.url));

export interface RuntimeProcessOptions {
  /** The runtime's environment before its own settings are added; defaults to this process's. */
  env?: NodeJS.ProcessEnv;
  registryDir?: string;
  /** Extra `PROCCTL_RUNTIME_*` settings (drain, queue, …), as environment variables. */
  settings?: Record<string, string>;
  /** How long to wait for the runtime to be ready (default 30 s). */
  startTimeoutMs?: number;
}

export interface RuntimeProcess {
  readonly url: string;
  readonly token: string;
  readonly child: ChildProcess;
  /** What the runtime has written to stderr (the last 16 KiB). */
  stderr(): string;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

const STDERR_KEEP = 16 * 1024;

export async function startRuntimeProcess(options: RuntimeProcessOptions = {}): Promise<RuntimeProcess> {
  const token = randomBytes(32).toString('base64url');
  const env: NodeJS.ProcessEnv = {
    ...(options.env ?? process.env),
    ...options.settings,
    PROCCTL_RUNTIME_TOKEN: token,
    PROCCTL_RUNTIME_HOST: '127.0.0.1',
    PROCCTL_RUNTIME_PORT: '0',
    // Our end of its stdin pipe closes when we die, even by SIGKILL: the runtime then exits.
    PROCCTL_RUNTIME_EXIT_WITH_STDIN: '1',
  };
  if (options.registryDir !== undefined) env['PROCCTL_REGISTRY'] = options.registryDir;
  else delete env['PROCCTL_REGISTRY'];
  const child = spawn(process.execPath, [RUNTIME_BIN], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  // Held open, never written: only its closing matters. It must not keep this process alive.
  child.stdin?.on('error', () => undefined);
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr = (stderr + text).slice(-STDERR_KEEP);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? null : code))));
  const stop = async (graceMs = 10_000) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    }
    return exited;
  };
  const unavailable = (why: string) => new ProcctlError('ERR_RUNTIME_UNAVAILABLE', `the processor runtime process did not start: ${why}${stderr.trim() ? `; it said: ${stderr.trim().slice(-2000)}` : ''}`);
  try {
    const { port } = await listeningLine(child, options.startTimeoutMs ?? 30_000, exited);
    const url = `http://127.0.0.1:${port}`;
    const health = await runtimeHealth(url);
    if (!health.ok) throw new Error(`/healthz says not ok: ${health.reason ?? 'no reason given'}`);
    return { url, token, child, stderr: () => stderr, stop };
  } catch (err) {
    await stop(1_000);
    throw unavailable((err as Error).message);
  }
}

/** The `{"event":"listening",…}` line the runtime prints once bound. */
function listeningLine(child: ChildProcess, timeoutMs: number, exited: Promise<number | null>): Promise<{ host: string; port: number }> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`no "listening" line within ${timeoutMs} ms`)), timeoutMs);
    const onData = (text: string) => {
      buffered += text;
      const newline = buffered.indexOf('\n');
      if (newline === -1) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      try {
        const line = JSON.parse(buffered.slice(0, newline)) as { event?: string; host?: string; port?: number };
        if (line.event !== 'listening' || typeof line.port !== 'number') throw new Error(`unexpected first line ${buffered.slice(0, newline)}`);
        resolve({ host: String(line.host), port: line.port });
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    };
    child.stdout?.setEncoding('utf8').on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`it exited with code ${code} before listening`));
    });
  });
}
