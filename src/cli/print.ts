/**
 * How results reach the terminal: with `--json` the canonical envelope alone on stdout (errors
 * too); otherwise a short readable summary. Events and errors go to stderr.
 */
import { canonicalJson } from '../contracts/canonical-json.js';
import type { Envelope } from '../contracts/envelope.js';
import { ERROR_CODES } from '../contracts/errors.js';
import type { ProcessorEvent } from '../sdk/index.js';

export function exitCodeFor(envelope: Envelope): number {
  return envelope.status === 'success' ? 0 : ERROR_CODES[envelope.error.code].exitCode;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** A `sha256:` digest or CID cut to its first 12 hex digits: enough to tell rows apart on a terminal. */
export function shortHash(hash: string): string {
  return `${hash.slice(0, 19)}…`;
}

/** Rows as aligned columns (the first row is the header), one line each. */
export function formatTable(table: string[][]): string {
  const widths = (table[0] ?? []).map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length)));
  return `${table.map((row) => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n')}\n`;
}

/**
 * What a `status` command prints: with --json the rows as one canonical JSON array (`[]` when
 * empty, so scripts always get an array), else `none` when there are no rows, else a table of
 * `header` over each row's `cells`.
 */
export function printStatus<Row>(rows: readonly Row[], options: { json: boolean; none: string; header: string[]; cells: (row: Row) => string[] }): void {
  if (options.json) process.stdout.write(`${canonicalJson(rows)}\n`);
  else if (rows.length === 0) process.stdout.write(`${options.none}\n`);
  else process.stdout.write(formatTable([options.header, ...rows.map(options.cells)]));
}

export function printEnvelope(envelope: Envelope, json: boolean, location: string): void {
  if (json) {
    process.stdout.write(`${canonicalJson(envelope)}\n`);
    return;
  }
  if (envelope.status === 'error') {
    process.stderr.write(`error ${envelope.error.code}: ${envelope.error.message}\n`);
    return;
  }
  const lines = [`ok ${envelope.ref} (${envelope.meta.mode}) execution ${envelope.execution_id}`, `  store   ${location}`, `  index   ${envelope.index_path}`];
  const width = Math.max(...envelope.outputs.map((o) => o.path.length), 0);
  for (const o of envelope.outputs) lines.push(`  output  ${o.path.padEnd(width)}  ${o.mime}  ${formatBytes(o.size_bytes)}  ${shortHash(o.cid)}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Streams handler events to stderr: tokens inline as they come, logs and progress as lines. */
export function stderrEventPrinter(): { onEvent: (event: ProcessorEvent) => void; end: () => void } {
  let midLine = false;
  const newline = () => {
    if (midLine) process.stderr.write('\n');
    midLine = false;
  };
  return {
    onEvent(event) {
      if (event.kind === 'token') {
        process.stderr.write(event.text);
        midLine = true;
        return;
      }
      newline();
      if (event.kind === 'log') process.stderr.write(`[${event.level}] ${event.message}\n`);
      else process.stderr.write(`[progress] ${Math.round(event.fraction * 100)}%${event.message ? ` ${event.message}` : ''}\n`);
    },
    end: newline,
  };
}

