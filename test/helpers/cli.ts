/** Runs a compiled bin as a real child process and collects what it printed. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { PROCCTL_BIN } from './paths.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, then stdin is closed; a Buffer is written as is. */
  input?: string | Buffer;
  bin?: string;
  /** Sees stderr so far after each chunk, with the child: for a test that signals mid-run. */
  onStderr?: (stderrSoFar: string, child: ChildProcess) => void;
}

export function tempDir(prefix = 'procctl-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * The environment tests start from: no provider credentials, AWS settings (credentials, endpoint,
 * region, profile) or procctl settings leak in from the developer's shell.
 */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'PROCCTL_ARTIFACTS', 'PROCCTL_REGISTRY', 'PROCCTL_S3_FORCE_PATH_STYLE', 'ECHO_TOKEN']) delete env[name];
  for (const name of Object.keys(env)) if (name.startsWith('AWS_')) delete env[name];
  return { ...env, ...extra };
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [options.bin ?? PROCCTL_BIN, ...args], {
      cwd: options.cwd ?? tempDir(),
      env: options.env ?? cleanEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => {
      err.push(c);
      options.onStderr?.(Buffer.concat(err).toString('utf8'), child);
    });
    child.on('error', reject);
    child.stdin.on('error', () => undefined); // the CLI may stop reading early (size limit)
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  });
}

export const HELLO_INPUTS = '{"schema":"v1","params":{"messages":[{"role":"user","content":"Hello"}]}}';

/** An `onStderr` that sends `signal` once `marker` appears on stderr; `sent` tells whether it did. */
export function signalWhen(marker: string, signal: NodeJS.Signals = 'SIGINT'): { sent: boolean; onStderr: NonNullable<CliOptions['onStderr']> } {
  const state = {
    sent: false,
    onStderr: (text: string, child: ChildProcess) => {
      if (state.sent || !text.includes(marker)) return;
      state.sent = true;
      child.kill(signal);
    },
  };
  return state;
}

/**
 * A stream to hand terminalProgress in place of stderr: it keeps what is written, and says it is
 * a terminal (or a pipe) `columns` wide, since the live line depends on both.
 */
export function recordingStream(isTTY: boolean, columns: number): { stream: NodeJS.WriteStream; text: () => string } {
  const chunks: string[] = [];
  const s = new PassThrough() as unknown as NodeJS.WriteStream & { isTTY: boolean; columns: number };
  s.isTTY = isTTY;
  s.columns = columns;
  s.write = ((chunk: string) => (chunks.push(chunk), true)) as typeof s.write;
  return { stream: s, text: () => chunks.join('') };
}

/** Every file under a directory, as text, for the secret canary search. */
export function allText(dir: string): string {
  if (!existsSync(dir)) return '';
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile())
    .map((d) => readFileSync(join(d.parentPath, d.name), 'latin1'))
    .join('\n');
}
