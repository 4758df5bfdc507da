/**
 * The three ways to give inputs — `--inputs-json`, `--inputs-file F`, `--inputs -` — exactly one
 * of them. Sizes are checked before the bytes are held, so a huge file or pipe fails fast.
 */
import { open } from 'node:fs/promises';
import { ProcctlError } from '../contracts/errors.js';
import { DEFAULT_MAX_INPUT_BYTES, parseInputsBytes, type InputsV1 } from '../contracts/inputs.js';

export interface InputsFlags {
  inputsJson?: string;
  inputsFile?: string;
  inputs?: string;
}

export async function readInputs(flags: InputsFlags, stdin: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin, maxBytes = DEFAULT_MAX_INPUT_BYTES): Promise<InputsV1> {
  const given = [
    flags.inputsJson !== undefined && '--inputs-json',
    flags.inputsFile !== undefined && '--inputs-file',
    flags.inputs !== undefined && '--inputs',
  ].filter(Boolean);
  if (given.length === 0) throw new ProcctlError('ERR_USAGE', 'no inputs: give exactly one of --inputs-json JSON, --inputs-file FILE or --inputs - (stdin)');
  if (given.length > 1) throw new ProcctlError('ERR_USAGE', `${given.join(' and ')} were both given; use exactly one of --inputs-json, --inputs-file, --inputs -`);
  if (flags.inputsJson !== undefined) return parseInputsBytes(Buffer.from(flags.inputsJson, 'utf8'), '--inputs-json', maxBytes);
  if (flags.inputsFile !== undefined) return parseInputsBytes(await readFileLimited(flags.inputsFile, maxBytes), flags.inputsFile, maxBytes);
  if (flags.inputs !== '-') throw new ProcctlError('ERR_USAGE', `--inputs takes only "-" (stdin); for a file use --inputs-file ${flags.inputs ?? ''}`.trimEnd());
  if (stdin.isTTY) throw new ProcctlError('ERR_USAGE', '--inputs - reads stdin, but stdin is a terminal; pipe the JSON in or use --inputs-file');
  return parseInputsBytes(await readStreamLimited(stdin, maxBytes), 'stdin', maxBytes);
}

async function readFileLimited(file: string, maxBytes: number): Promise<Buffer> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
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
    return info.isFile() ? await handle.readFile() : await readStreamLimited(handle.createReadStream(), maxBytes, file);
  } finally {
    await handle.close();
  }
}

/** Reads at most maxBytes + 1 bytes: enough to know the input is too large without holding it. */
async function readStreamLimited(stream: NodeJS.ReadableStream, maxBytes: number, source = 'stdin'): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    total += buf.byteLength;
    if (total > maxBytes) {
      (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      throw new ProcctlError('ERR_INPUT_TOO_LARGE', `inputs from ${source} are more than ${maxBytes} bytes, the limit (store large data as an --attach file instead)`, { source, limit_bytes: maxBytes });
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks, total);
}
