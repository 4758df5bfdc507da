/**
 * The three ways to give inputs — `--inputs-json`, `--inputs-file F`, `--inputs -` — exactly one
 * of them. Sizes are checked before the bytes are held, so a huge file or pipe fails fast.
 */
import { closeSync, constants, openSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { ProcctlError } from '../contracts/errors.js';
import { DEFAULT_MAX_INPUT_BYTES, parseInputsBytes, type InputsV1 } from '../contracts/inputs.js';

export interface InputsFlags {
  inputsJson?: string;
  inputsFile?: string;
  inputs?: string;
}

/**
 * `signal` (SIGINT/SIGTERM in the CLI) ends a wait on a pipe, a FIFO or a terminal-less stdin at
 * once, as ERR_CANCELLED, instead of when the writer closes its end.
 */
export async function readInputs(flags: InputsFlags, stdin: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin, maxBytes = DEFAULT_MAX_INPUT_BYTES, signal?: AbortSignal): Promise<InputsV1> {
  const given = [
    flags.inputsJson !== undefined && '--inputs-json',
    flags.inputsFile !== undefined && '--inputs-file',
    flags.inputs !== undefined && '--inputs',
  ].filter(Boolean);
  if (given.length === 0) throw new ProcctlError('ERR_USAGE', 'no inputs: give exactly one of --inputs-json JSON, --inputs-file FILE or --inputs - (stdin)');
  if (given.length > 1) throw new ProcctlError('ERR_USAGE', `${given.join(' and ')} were both given; use exactly one of --inputs-json, --inputs-file, --inputs -`);
  if (flags.inputsJson !== undefined) return parseInputsBytes(Buffer.from(flags.inputsJson, 'utf8'), '--inputs-json', maxBytes);
  if (flags.inputsFile !== undefined) return parseInputsBytes(await readFileLimited(flags.inputsFile, maxBytes, signal), flags.inputsFile, maxBytes);
  if (flags.inputs !== '-') throw new ProcctlError('ERR_USAGE', `--inputs takes only "-" (stdin); for a file use --inputs-file ${flags.inputs ?? ''}`.trimEnd());
  if (stdin.isTTY) throw new ProcctlError('ERR_USAGE', '--inputs - reads stdin, but stdin is a terminal; pipe the JSON in or use --inputs-file');
  return parseInputsBytes(await readStreamLimited(stdin, maxBytes, 'stdin', signal), 'stdin', maxBytes);
}

function cancelled(source: string): ProcctlError {
  return new ProcctlError('ERR_CANCELLED', `cancelled while waiting for inputs from ${source}`, { source });
}

/**
 * Opening a FIFO blocks (in the thread pool, out of reach of a signal) until a writer opens it.
 * On cancel we become that writer for an instant: the blocked open returns, and the read sees EOF.
 */
async function openCancellable(file: string, signal: AbortSignal | undefined) {
  const isFifo = await stat(file).then((info) => info.isFIFO(), () => false);
  if (!isFifo || !signal) return open(file, 'r');
  if (signal.aborted) throw cancelled(file);
  const opening = open(file, 'r');
  const onAbort = () => {
    try {
      closeSync(openSync(file, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // No reader waiting any more: the open has already returned.
    }
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const handle = await opening;
    if (signal.aborted) {
      await handle.close();
      throw cancelled(file);
    }
    return handle;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

async function readFileLimited(file: string, maxBytes: number, signal?: AbortSignal): Promise<Buffer> {
  let handle;
  try {
    handle = await openCancellable(file, signal);
  } catch (err) {
    if (err instanceof ProcctlError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new ProcctlError('ERR_INPUT_INVALID', `inputs file ${file} ${code === 'ENOENT' ? 'does not exist' : `cannot be read: ${code ?? (err as Error).message}`}`, { source: file });
  }
  try {
    const info = await handle.stat();
    if (info.isDirectory()) throw new ProcctlError('ERR_INPUT_INVALID', `inputs file ${file} is a directory`, { source: file });
    if (info.isFile() && info.size > maxBytes) {
      throw new ProcctlError('ERR_INPUT_TOO_LARGE', `inputs from ${file} are ${info.size} bytes; the limit is ${maxBytes} bytes (store large data as an --attach file instead)`, { source: file, size_bytes: info.size, limit_bytes: maxBytes });
    }
    // Not a regular file (a FIFO, /dev/stdin): read it like a stream, still bounded.
    return info.isFile() ? await handle.readFile() : await readStreamLimited(handle.createReadStream(), maxBytes, file, signal);
  } finally {
    await handle.close();
  }
}

/** Reads at most maxBytes + 1 bytes: enough to know the input is too large without holding it. */
async function readStreamLimited(stream: NodeJS.ReadableStream, maxBytes: number, source = 'stdin', signal?: AbortSignal): Promise<Buffer> {
  if (signal?.aborted) throw cancelled(source);
  const chunks: Buffer[] = [];
  let total = 0;
  const destroy = () => (stream as NodeJS.ReadableStream & { destroy?: (err?: Error) => void }).destroy?.(cancelled(source));
  signal?.addEventListener('abort', destroy, { once: true });
  try {
    for await (const chunk of stream) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      total += buf.byteLength;
      if (total > maxBytes) {
        (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
        throw new ProcctlError('ERR_INPUT_TOO_LARGE', `inputs from ${source} are more than ${maxBytes} bytes, the limit (store large data as an --attach file instead)`, { source, limit_bytes: maxBytes });
      }
      chunks.push(buf);
    }
  } catch (err) {
    if (signal?.aborted) throw cancelled(source);
    throw err;
  } finally {
    signal?.removeEventListener('abort', destroy);
  }
  return Buffer.concat(chunks, total);
}
