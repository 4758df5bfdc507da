/**
 * Reading runs back from any listable store: the listing (from the index, built from the records
 * first when a store has none), one run's records, an output's bytes checked against its cid, and
 * the stored events. See layout.ts for where everything lives.
 */
import { contentId } from '../contracts/content-id.js';
import { canonicalBytes } from '../contracts/canonical-json.js';
import type { Envelope, OutputRecord } from '../contracts/envelope.js';
import { ProcctlError } from '../contracts/errors.js';
import { collectArtifactRefs } from '../artifacts/attachments.js';
import { checkExecutionId } from '../artifacts/paths.js';
import type { ListableStore } from '../artifacts/store.js';
import { defaultPrefix, entryName, INDEX_IDS, INDEX_MARKER, INDEX_ROOT, INDEX_RUNS, parseEntryName, RUN_FILES, STALE_MS, type RunLocation, type RunStatus, type RunSummary } from './layout.js';
import type { StoredEvent } from './recorder.js';

export interface RunFilter {
  /** `ns/name@N`, or `ns/name` for every version. */
  ref?: string;
  status?: RunStatus;
  mode?: string;
  errorCode?: string;
  /** Started at or after / before these times. */
  since?: Date;
  until?: Date;
  /** At most this many rows (newest first). */
  limit?: number;
}

export interface RunDetail {
  summary: RunSummary;
  prefix: string;
  envelope: Envelope | null;
  receipt: Record<string, unknown> | null;
  inputs: Record<string, unknown> | null;
  outputs: OutputRecord[];
}

export class RunCatalog {
  constructor(readonly store: ListableStore) {}

  /** Newest first, one row per execution id. Reads entry names only. */
  async list(filter: RunFilter = {}): Promise<RunSummary[]> {
    if (!(await this.store.has(INDEX_MARKER))) await this.reindex();
    const limit = filter.limit ?? Infinity;
    const unfiltered = filter.ref === undefined && filter.status === undefined && filter.mode === undefined && filter.errorCode === undefined && filter.since === undefined && filter.until === undefined;
    // Unfiltered, only the first page(s) are needed (a margin covers an id listed twice mid-update).
    const names = await this.store.list(INDEX_RUNS, unfiltered && Number.isFinite(limit) ? limit * 2 + 2 : Infinity);
    const rows = new Map<string, RunSummary>();
    for (const key of names) {
      const row = parseEntryName(key.slice(INDEX_RUNS.length));
      if (!row) continue;
      const seen = rows.get(row.execution_id);
      // Same start, two entries: the run is between "running" and its end; the end wins.
      if (seen && !(seen.status === 'running' && row.started_at === seen.started_at)) continue;
      rows.set(row.execution_id, row);
    }
    const out: RunSummary[] = [];
    for (const row of rows.values()) {
      if (filter.until && Date.parse(row.started_at) >= filter.until.getTime()) continue;
      if (filter.since && Date.parse(row.started_at) < filter.since.getTime()) break; // newest first: the rest are older
      if (!matches(row, filter)) continue;
      out.push(row);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Where a run's records are: the index says, else the default prefix if a record is there. */
  async locate(executionId: string): Promise<RunLocation> {
    checkExecutionId(executionId);
    const recorded = await this.store.get(`${INDEX_IDS}${executionId}`).then(
      (bytes) => JSON.parse(bytes.toString('utf8')) as RunLocation,
      () => undefined,
    );
    if (recorded) return recorded;
    const prefix = defaultPrefix(executionId);
    for (const file of [RUN_FILES.envelope, RUN_FILES.start]) if (await this.store.has(`${prefix}${file}`)) return { execution_id: executionId, prefix, entry: '' };
    throw new ProcctlError('ERR_RUN_NOT_FOUND', `no execution ${executionId} in ${this.store.location} (procctl runs list shows what is there; --reindex if another machine wrote it)`, { execution_id: executionId, store: this.store.location });
  }

  async show(executionId: string): Promise<RunDetail> {
    const { prefix } = await this.locate(executionId);
    const [envelope = null, receipt = null, inputs = null, start = null] = await Promise.all([RUN_FILES.envelope, RUN_FILES.receipt, RUN_FILES.inputs, RUN_FILES.start].map((file) => this.readJson(`${prefix}${file}`)));
    const env = envelope as Envelope | null;
    const startRecord = start as { ref?: string; mode?: string; started_at?: string } | null;
    const summary: RunSummary = {
      execution_id: executionId,
      ref: env?.ref ?? startRecord?.ref ?? '',
      mode: env?.meta.mode ?? startRecord?.mode ?? '',
      status: env?.status ?? 'running',
      error_code: env?.status === 'error' ? env.error.code : null,
      started_at: (receipt?.['started_at'] as string | undefined) ?? startRecord?.started_at ?? '',
    };
    return { summary, prefix, envelope: env, receipt, inputs, outputs: env?.status === 'success' ? env.outputs : [] };
  }

  /**
   * An output's bytes, proved to be the ones its record names. PATH is the output's path as the
   * envelope gives it, or relative to the run's `outputs/`.
   */
  async output(executionId: string, path: string): Promise<{ record: OutputRecord; bytes: Buffer }> {
    const detail = await this.show(executionId);
    const record = detail.outputs.find((o) => o.path === path || o.path === `${detail.prefix}outputs/${path}`);
    if (!record) {
      const known = detail.outputs.map((o) => o.path.slice(`${detail.prefix}outputs/`.length));
      throw new ProcctlError('ERR_RUN_NOT_FOUND', `execution ${executionId} has no output ${JSON.stringify(path)}${known.length ? ` (it has: ${known.join(', ')})` : ''}`, { execution_id: executionId, path });
    }
    return { record, bytes: await this.verified(record.path, record.cid) };
  }

  /** Bytes read back and checked against the cid that names them. */
  async verified(key: string, cid: string): Promise<Buffer> {
    const bytes = await this.store.get(key);
    const actual = contentId(bytes);
    if (actual !== cid) throw new ProcctlError('ERR_ARTIFACT_STORE', `${key} in ${this.store.location} does not match its content id: recorded ${cid}, stored bytes are ${actual}`, { key, cid, actual }, { retryable: false });
    return bytes;
  }

  /** The stored events so far, and whether the run has ended (its envelope is there). */
  async events(executionId: string): Promise<{ events: StoredEvent[]; done: boolean }> {
    const { prefix } = await this.locate(executionId);
    return this.eventsAt(prefix);
  }

  /**
   * Whether a run without an envelope still shows signs of life: a heartbeat (or, before the
   * first one, its start) within STALE_MS. False means its process is gone (killed, crashed).
   */
  async alive(prefix: string, now = Date.now()): Promise<boolean> {
    const beat = (await this.readJson(`${prefix}${RUN_FILES.heartbeat}`))?.['at'] ?? (await this.readJson(`${prefix}${RUN_FILES.start}`))?.['started_at'];
    return typeof beat === 'string' && now - Date.parse(beat) < STALE_MS;
  }

  async eventsAt(prefix: string): Promise<{ events: StoredEvent[]; done: boolean }> {
    // Done is read first: events are complete before the envelope is written.
    const done = await this.store.has(`${prefix}${RUN_FILES.envelope}`);
    const text = await this.store.get(`${prefix}${RUN_FILES.events}`).then((b) => b.toString('utf8'), () => '');
    const events: StoredEvent[] = [];
    for (const line of text.split('\n')) {
      if (line === '') continue;
      try {
        events.push(JSON.parse(line) as StoredEvent);
      } catch {
        // a torn line cannot happen with whole-object writes; skip rather than fail the reader
      }
    }
    return { events, done };
  }

  /**
   * Rebuilds the index from the records alone: every prefix holding an envelope and receipt of the
   * same execution (an older version's run, or another machine's), or a start record (a run still
   * going). Old entries that no record backs are dropped.
   */
  async reindex(): Promise<number> {
    const keys = await this.store.list('');
    const candidates = new Map<string, Set<string>>();
    for (const key of keys) {
      if (key.startsWith(INDEX_ROOT)) continue;
      const slash = key.lastIndexOf('/');
      const file = key.slice(slash + 1);
      if (file !== RUN_FILES.envelope && file !== RUN_FILES.receipt && file !== RUN_FILES.start) continue;
      const prefix = key.slice(0, slash + 1);
      const files = candidates.get(prefix) ?? new Set<string>();
      files.add(file);
      candidates.set(prefix, files);
    }
    const prefixes = [...candidates.keys()].sort();
    const wanted = new Map<string, { summary: RunSummary; prefix: string }>();
    for (const prefix of prefixes) {
      // Records inside another run's outputs are that run's outputs, not a run.
      if (prefixes.some((other) => other !== prefix && prefix.startsWith(`${other}outputs/`))) continue;
      const files = candidates.get(prefix) as Set<string>;
      const summary = await this.summaryFromRecords(prefix, files);
      if (!summary) continue;
      const seen = wanted.get(summary.execution_id);
      if (!seen || seen.summary.started_at < summary.started_at) wanted.set(summary.execution_id, { summary, prefix });
    }
    const existing = new Set(await this.store.list(INDEX_ROOT));
    const keep = new Set<string>([INDEX_MARKER]);
    for (const { summary, prefix } of wanted.values()) {
      const entry = entryName(summary);
      keep.add(`${INDEX_RUNS}${entry}`);
      keep.add(`${INDEX_IDS}${summary.execution_id}`);
      if (!existing.has(`${INDEX_RUNS}${entry}`)) await this.store.put(`${INDEX_RUNS}${entry}`, new Uint8Array(), 'application/octet-stream');
      await this.store.put(`${INDEX_IDS}${summary.execution_id}`, canonicalBytes({ execution_id: summary.execution_id, prefix, entry } satisfies RunLocation), 'application/json');
    }
    await this.store.remove([...existing].filter((key) => !keep.has(key)));
    await this.store.put(INDEX_MARKER, canonicalBytes({ version: 1, runs: wanted.size, rebuilt_at: new Date().toISOString() }), 'application/json');
    return wanted.size;
  }

  private async summaryFromRecords(prefix: string, files: Set<string>): Promise<RunSummary | undefined> {
    if (files.has(RUN_FILES.envelope) && files.has(RUN_FILES.receipt)) {
      const envelope = (await this.readJson(`${prefix}${RUN_FILES.envelope}`)) as Envelope | null;
      const receipt = await this.readJson(`${prefix}${RUN_FILES.receipt}`);
      if (!envelope || !receipt || typeof envelope.execution_id !== 'string' || receipt['execution_id'] !== envelope.execution_id || typeof receipt['started_at'] !== 'string') return undefined;
      return {
        execution_id: envelope.execution_id,
        ref: envelope.ref,
        mode: envelope.meta?.mode ?? '',
        status: envelope.status,
        error_code: envelope.status === 'error' ? envelope.error.code : null,
        started_at: receipt['started_at'],
      };
    }
    if (files.has(RUN_FILES.start)) {
      const start = await this.readJson(`${prefix}${RUN_FILES.start}`);
      if (!start || typeof start['execution_id'] !== 'string' || typeof start['started_at'] !== 'string') return undefined;
      return { execution_id: start['execution_id'], ref: String(start['ref'] ?? ''), mode: String(start['mode'] ?? ''), status: 'running', error_code: null, started_at: start['started_at'] };
    }
    return undefined;
  }

  async readJson(key: string): Promise<Record<string, unknown> | null> {
    try {
      return JSON.parse((await this.store.get(key)).toString('utf8')) as Record<string, unknown>;
    } catch {
      return null;
    }
  }
}

function matches(row: RunSummary, filter: RunFilter): boolean {
  if (filter.ref !== undefined && row.ref !== filter.ref && !(!filter.ref.includes('@') && row.ref.startsWith(`${filter.ref}@`))) return false;
  if (filter.status !== undefined && row.status !== filter.status) return false;
  if (filter.mode !== undefined && row.mode !== filter.mode) return false;
  if (filter.errorCode !== undefined && row.error_code !== filter.errorCode) return false;
  return true;
}

/** What is wrong with a stored run: each attachment and output read back and checked. Empty: it verifies. */
export async function verifyRun(catalog: RunCatalog, executionId: string): Promise<string[]> {
  const detail = await catalog.show(executionId);
  const problems: string[] = [];
  const check = async (key: string, cid: string) => {
    try {
      await catalog.verified(key, cid);
    } catch (err) {
      problems.push((err as Error).message);
    }
  };
  for (const ref of collectArtifactRefs(detail.inputs)) await check(ref.$artifact, ref.cid);
  for (const output of detail.outputs) await check(output.path, output.cid);
  return problems;
}
