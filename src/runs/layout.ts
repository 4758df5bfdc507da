/**
 * Where a run's records live and how the run index names them.
 *
 * A run's records sit beside its outputs under its write prefix (`executions/<id>/` by default,
 * whatever `--write-prefix` made it otherwise): `envelope.json`, `receipt.json`, `outputs.json`
 * (written by `run`), plus `run.json` (the start: ref, mode, time) and `inputs.json` (the resolved
 * inputs, attachments as artifact references), `events.jsonl` (the stored events) and, while it
 * runs, `heartbeat.json` (rewritten every 10 s, so a run whose process was killed is told apart
 * from one still going).
 *
 * The index lives apart, under `index/` at the store's root, and is only a cache: every entry can
 * be rebuilt from the records above (`procctl runs list --reindex`). One entry per run is an empty
 * object whose *name* carries what a listing shows and filters on, so listing is one directory
 * read (filesystem) or one LIST page per 1000 runs (S3) with no object read per run:
 *
 *   index/runs/<inverted start ms>~<status>~<mode>~<error code or ->~<base64url ref>~<id>
 *
 * The inverted time sorts newest first. `index/ids/<id>` holds the run's prefix (so a custom write
 * prefix is found again) and the name of its current entry.
 */
import { DEFAULT_WRITE_PREFIX, resolveWritePrefix } from '../artifacts/paths.js';

export const RUN_FILES = {
  envelope: 'envelope.json',
  receipt: 'receipt.json',
  outputs: 'outputs.json',
  start: 'run.json',
  inputs: 'inputs.json',
  events: 'events.jsonl',
  heartbeat: 'heartbeat.json',
} as const;

/** A running run rewrites its heartbeat this often; a reader that sees none for STALE_MS calls it gone. */
export const HEARTBEAT_MS = 10_000;
export const STALE_MS = 6 * HEARTBEAT_MS;

export const INDEX_ROOT = 'index/';
export const INDEX_RUNS = 'index/runs/';
export const INDEX_IDS = 'index/ids/';
/** Written when the index was last built from the records; its absence means "build it first". */
export const INDEX_MARKER = 'index/v1.json';

export type RunStatus = 'running' | 'success' | 'error';

/** One row of a listing: everything here comes from the entry's name. */
export interface RunSummary {
  execution_id: string;
  ref: string;
  mode: string;
  status: RunStatus;
  error_code: string | null;
  started_at: string;
}

/** What `index/ids/<id>` holds. */
export interface RunLocation {
  execution_id: string;
  prefix: string;
  entry: string;
}

const MAX_TIME = 9_999_999_999_999;
const STATUSES = new Set<string>(['running', 'success', 'error']);

export function entryName(summary: RunSummary): string {
  const inverted = String(MAX_TIME - Date.parse(summary.started_at)).padStart(13, '0');
  const ref = Buffer.from(summary.ref, 'utf8').toString('base64url');
  return `${inverted}~${summary.status}~${summary.mode}~${summary.error_code ?? '-'}~${ref}~${summary.execution_id}`;
}

/** The summary an entry name carries, or undefined for a name this version did not write. */
export function parseEntryName(name: string): RunSummary | undefined {
  const parts = name.split('~');
  if (parts.length !== 6) return undefined;
  const [inverted, status, mode, code, ref, id] = parts as [string, string, string, string, string, string];
  if (!/^\d{13}$/.test(inverted) || !STATUSES.has(status) || id === '') return undefined;
  return {
    execution_id: id,
    ref: Buffer.from(ref, 'base64url').toString('utf8'),
    mode,
    status: status as RunStatus,
    error_code: code === '-' ? null : code,
    started_at: new Date(MAX_TIME - Number(inverted)).toISOString(),
  };
}

/** The prefix a run has when nothing records another: the default template. */
export function defaultPrefix(executionId: string): string {
  return resolveWritePrefix(DEFAULT_WRITE_PREFIX, executionId);
}
