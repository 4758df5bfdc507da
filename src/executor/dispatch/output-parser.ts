// Reads an executor's stdout as it streams out of a container: relays the start markers as they
// arrive and keeps the final result line. Anything else on stdout is unexpected (the executor
// prints nothing but these lines) and is kept, bounded, for diagnostics.
import { Writable } from 'node:stream';
import {
  CONTRACT_VERSION,
  DISPATCH_STATUSES,
  RUN_STATUSES,
  RESULT_LINE_PREFIX,
  STARTED_MARKER,
  type ExecutionResult,
} from '../contract.js';

const MAX_LINE_BYTES = 256 * 1024 * 1024;
const MAX_UNEXPECTED_BYTES = 64 * 1024;

export class ExecutorOutputParser extends Writable {
  startedMarkerSeen = false;
  resultLine: string | undefined;
  unexpected = '';
  overflow = false;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly onMarkerLine: (line: string) => void) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      this.append(chunk.subarray(start, nl));
      this.line(Buffer.concat(this.pending).toString('utf8'));
      this.pending = [];
      this.pendingBytes = 0;
      start = nl + 1;
    }
    this.append(chunk.subarray(start));
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    // A result line cut off without its newline is still complete JSON if the stream ended
    // cleanly; line() decides whether it parses.
    if (this.pendingBytes > 0) this.line(Buffer.concat(this.pending).toString('utf8'));
    this.pending = [];
    callback();
  }

  /** Flush a trailing unterminated line (for streams that stop without 'finish'). */
  flushPending(): void {
    if (this.pendingBytes > 0) this.line(Buffer.concat(this.pending).toString('utf8'));
    this.pending = [];
    this.pendingBytes = 0;
  }

  private append(part: Buffer): void {
    if (part.length === 0) return;
    if (this.pendingBytes + part.length > MAX_LINE_BYTES) {
      this.overflow = true;
      return;
    }
    this.pending.push(Buffer.from(part));
    this.pendingBytes += part.length;
  }

  private line(text: string): void {
    const line = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (line.startsWith(RESULT_LINE_PREFIX)) {
      this.resultLine = line.slice(RESULT_LINE_PREFIX.length);
    } else if (line === STARTED_MARKER || line.startsWith('{"event":"executor_started"')) {
      this.startedMarkerSeen = true;
      this.onMarkerLine(line);
    } else if (this.unexpected.length < MAX_UNEXPECTED_BYTES) {
      this.unexpected += (line + '\n').slice(0, MAX_UNEXPECTED_BYTES - this.unexpected.length);
    }
  }
}

/** Keeps the last `limit` bytes of a stream (container stderr, for error details). */
export class TailBuffer extends Writable {
  private data = Buffer.alloc(0);

  constructor(private readonly limit = 16 * 1024) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const joined = Buffer.concat([this.data, chunk]);
    this.data = joined.length > this.limit ? joined.subarray(joined.length - this.limit) : joined;
    callback();
  }

  text(): string {
    return this.data.toString('utf8');
  }
}

/**
 * Parse the JSON after `LLMCTL_EXECUTOR_RESULT_JSON=` and check the required fields, so a
 * garbled or foreign line is reported rather than passed on as a result.
 */
export function parseResultJson(text: string): ExecutionResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`result line is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('result line is not a JSON object');
  const r = value as Record<string, unknown>;
  const statuses: readonly unknown[] = [...RUN_STATUSES, ...DISPATCH_STATUSES];
  const problems: string[] = [];
  if (r.contract_version !== CONTRACT_VERSION) problems.push('contract_version is not "v1"');
  if (!statuses.includes(r.status)) problems.push(`unknown status ${JSON.stringify(r.status)}`);
  if (!(r.exit_code === null || Number.isInteger(r.exit_code))) problems.push('exit_code is not an integer or null');
  for (const key of ['started_at', 'finished_at', 'stdout', 'stderr'])
    if (typeof r[key] !== 'string') problems.push(`${key} is not a string`);
  if (!('error' in r)) problems.push('error is missing');
  if (typeof r.provider_metadata !== 'object' || r.provider_metadata === null) problems.push('provider_metadata is not an object');
  if (problems.length > 0) throw new Error(`result line breaks the v1 contract: ${problems.join('; ')}`);
  return value as ExecutionResult;
}
