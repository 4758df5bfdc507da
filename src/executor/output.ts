// The executor's stdout contract (start markers, one result line) and the atomic result file.
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CONTRACT_VERSION, RESULT_LINE_PREFIX, STARTED_MARKER, type ExecutionResult } from './contract.js';

/** The two start marker lines (without trailing newlines). */
export function startMarkerLines(now: Date = new Date()): [string, string] {
  return [
    STARTED_MARKER,
    JSON.stringify({ event: 'executor_started', contract_version: CONTRACT_VERSION, ts: now.toISOString() }),
  ];
}

/**
 * The single final stdout line. JSON.stringify escapes newlines, so it is always one line. It
 * never throws: should the echoed metadata or the error details not serialise (the payload check
 * keeps them I-JSON, so this is a net, not a path), they are dropped with a warning, so every
 * exit still prints exactly one result line.
 */
export function resultLine(result: ExecutionResult): string {
  try {
    return RESULT_LINE_PREFIX + JSON.stringify(result);
  } catch (err) {
    const { metadata: _metadata, ...rest } = result;
    const error = rest.error && { code: rest.error.code, message: rest.error.message };
    const warning = `metadata and error details dropped from the result: they do not serialise (${(err as Error).message})`;
    return RESULT_LINE_PREFIX + JSON.stringify({ ...rest, ...(error && { error }), warnings: [...(rest.warnings ?? []), warning] });
  }
}

/**
 * Write the result to `path` atomically: a temporary file in the same directory, fsync, rename.
 * A reader sees either no file or the whole result, never a torn one.
 */
export async function writeResultFile(path: string, result: ExecutionResult): Promise<void> {
  const target = resolve(path);
  const dir = dirname(target);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', 0o644);
  try {
    await handle.writeFile(JSON.stringify(result) + '\n');
    await handle.sync();
  } catch (err) {
    await handle.close();
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await handle.close();
  try {
    await rename(tmp, target);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  // Persist the rename itself; some filesystems refuse to fsync a directory, which is harmless.
  const dirHandle = await open(dir, 'r').catch(() => undefined);
  await dirHandle?.sync().catch(() => {});
  await dirHandle?.close();
}
