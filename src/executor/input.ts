// Where the payload text comes from, highest priority first: --payload-file, --payload-json,
// LLMCTL_EXECUTOR_PAYLOAD_FILE, LLMCTL_EXECUTOR_PAYLOAD_JSON, stdin. Stdin is only read when it
// is not a terminal and actually delivers something (data or EOF) within a short window, so the
// executor never hangs on an interactive terminal or an open pipe nobody writes to.
import { fstatSync, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { MAX_PAYLOAD_BYTES } from './contract.js';
import { PayloadSourceError } from './errors.js';

export const DEFAULT_STDIN_WAIT_MS = 1000;

export interface PayloadSourceOptions {
  payloadFile?: string | undefined;
  payloadJson?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /**
   * The stream to consider last, as a thunk: touching `process.stdin` creates a handle, which we
   * avoid entirely when a higher-priority source wins. Omitted → stdin is not a source.
   */
  stdin?: () => StdinLike;
  /** how long an idle stdin pipe may stay silent before it is ignored. */
  stdinWaitMs?: number;
  /** ends a read of a slow stdin at once (SIGINT/SIGTERM); the caller reports `cancelled`. */
  signal?: AbortSignal | undefined;
}

export type StdinLike = Readable & { isTTY?: boolean; fd?: number };

export interface PayloadText {
  text: string;
  /** which source won, for provider_metadata and error messages. */
  source: 'payload_file' | 'payload_json' | 'env_payload_file' | 'env_payload_json' | 'stdin';
}

async function readFileBounded(path: string, what: string): Promise<string> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw new PayloadSourceError(`cannot read ${what} ${path}: ${(err as Error).message}`, { path });
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new PayloadSourceError(`${what} ${path} is not a regular file`, { path });
    if (info.size > MAX_PAYLOAD_BYTES)
      throw new PayloadSourceError(`${what} ${path} is ${info.size} bytes; the limit is ${MAX_PAYLOAD_BYTES}`, { path });
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

function checkSize(text: string, what: string): string {
  if (Buffer.byteLength(text) > MAX_PAYLOAD_BYTES)
    throw new PayloadSourceError(`${what} is larger than the ${MAX_PAYLOAD_BYTES}-byte payload limit`);
  return text;
}

/** Resolve the payload text. Throws PayloadSourceError when no source yields one. */
export async function readPayloadText(opts: PayloadSourceOptions): Promise<PayloadText> {
  const env = opts.env ?? {};
  if (opts.payloadFile !== undefined)
    return { text: await readFileBounded(opts.payloadFile, '--payload-file'), source: 'payload_file' };
  if (opts.payloadJson !== undefined) return { text: checkSize(opts.payloadJson, '--payload-json'), source: 'payload_json' };
  const envFile = env.LLMCTL_EXECUTOR_PAYLOAD_FILE;
  if (envFile)
    return { text: await readFileBounded(envFile, 'LLMCTL_EXECUTOR_PAYLOAD_FILE'), source: 'env_payload_file' };
  const envJson = env.LLMCTL_EXECUTOR_PAYLOAD_JSON;
  if (envJson) return { text: checkSize(envJson, 'LLMCTL_EXECUTOR_PAYLOAD_JSON'), source: 'env_payload_json' };

  const noSource =
    'no payload: give --payload-file, --payload-json, LLMCTL_EXECUTOR_PAYLOAD_FILE, LLMCTL_EXECUTOR_PAYLOAD_JSON or JSON on stdin';
  if (!opts.stdin) throw new PayloadSourceError(noSource);
  const stdin = opts.stdin();
  if (stdin.isTTY) throw new PayloadSourceError(`${noSource} (stdin is a terminal, which is never read)`);
  const text = await readStdinIfDelivered(stdin, opts.stdinWaitMs ?? DEFAULT_STDIN_WAIT_MS, opts.signal);
  if (text === undefined) throw new PayloadSourceError(`${noSource} (stdin delivered nothing)`);
  if (text.trim().length === 0) throw new PayloadSourceError(`${noSource} (stdin was empty)`);
  return { text, source: 'stdin' };
}

/**
 * Read all of `stream` if it is not a TTY and delivers data or EOF within `waitMs`; otherwise
 * return undefined and let go of it. A regular file is read directly: it can never block.
 */
export async function readStdinIfDelivered(
  stream: StdinLike,
  waitMs: number,
  signal?: AbortSignal,
): Promise<string | undefined> {
  if (stream.isTTY) return undefined;
  const fd = stream.fd ?? -1;
  if (fd >= 0) {
    try {
      if (fstatSync(fd).isFile()) {
        const size = fstatSync(fd).size;
        if (size > MAX_PAYLOAD_BYTES)
          throw new PayloadSourceError(`stdin is ${size} bytes; the limit is ${MAX_PAYLOAD_BYTES}`);
        return readFileSync(fd, 'utf8');
      }
    } catch (err) {
      if (err instanceof PayloadSourceError) throw err;
      // EBADF (stdin closed) and the like: treat as no stdin at all.
      return undefined;
    }
  }
  return new Promise<string | undefined>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (value: string | undefined, err?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      if (value === undefined || err) {
        // Nobody is writing: stop reading and drop the handle so it cannot keep us alive.
        stream.pause();
        stream.destroy();
      }
      if (err) reject(err);
      else resolve(value);
    };
    const timer = setTimeout(() => finish(undefined), waitMs);
    const onData = (chunk: Buffer | string): void => {
      // Something is coming: the window only guards the first byte; read on to EOF.
      clearTimeout(timer);
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += buf.length;
      if (size > MAX_PAYLOAD_BYTES) {
        finish(undefined, new PayloadSourceError(`stdin delivered more than the ${MAX_PAYLOAD_BYTES}-byte payload limit`));
        return;
      }
      chunks.push(buf);
    };
    const onEnd = (): void => finish(Buffer.concat(chunks).toString('utf8'));
    const onError = (err: Error): void => finish(undefined, new PayloadSourceError(`cannot read stdin: ${err.message}`));
    const onAbort = (): void => finish(undefined, new PayloadSourceError('cancelled while reading the payload from stdin'));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.resume();
  });
}
