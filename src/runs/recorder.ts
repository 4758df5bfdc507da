/**
 * Keeps a run findable while it runs and after: its start record and inputs, its streamed events
 * (redacted, bounded) and its index entry. `run` drives it; every placement's events pass through
 * `run`'s `onEvent`, so the events of in-process, container, Modal and Kubernetes runs are kept the
 * same way. The envelope bytes are not touched: they are written by `run` as before.
 *
 * Recording is a convenience: a store that fails here never fails the run (the run's own writes
 * report a failing store).
 */
import { canonicalBytes, canonicalJson } from '../contracts/canonical-json.js';
import type { Envelope } from '../contracts/envelope.js';
import type { InputsV1 } from '../contracts/inputs.js';
import { isListableStore, type ArtifactStore } from '../artifacts/store.js';
import type { Redactor } from '../execution/redact.js';
import type { ProcessorEvent } from '../sdk/index.js';
import { entryName, HEARTBEAT_MS, INDEX_IDS, INDEX_RUNS, RUN_FILES, type RunLocation, type RunSummary } from './layout.js';

/** Stored events stop here; a last `note` line says how much was cut. */
export const MAX_EVENT_BYTES = 1024 * 1024;
/** How often a running run's events reach the store (S3 is asked less often). */
const FLUSH_MS = { fs: 200, s3: 1000 } as const;

export interface StoredEvent {
  /** Milliseconds since the run started. */
  t_ms: number;
  kind: ProcessorEvent['kind'] | 'note';
  [field: string]: unknown;
}

export interface RecorderStart {
  store: ArtifactStore;
  prefix: string;
  executionId: string;
  ref: string;
  mode: string;
  started: Date;
}

export class RunRecorder {
  private readonly lines: string[] = [];
  private bytes = 0;
  private cut = { events: 0, bytes: 0 };
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private entry: string;
  private readonly t0 = performance.now();
  private broken = false;
  private redact: Redactor = (text) => text;

  private constructor(private readonly start: RecorderStart) {
    this.entry = entryName(this.summary({ status: 'running', error_code: null }));
  }

  /** Writes the start record and the "running" index entry (replacing an earlier run's entry for the id). */
  static async begin(start: RecorderStart): Promise<RunRecorder> {
    const recorder = new RunRecorder(start);
    await recorder.guard(async () => {
      const { store, prefix, executionId, ref, mode, started } = start;
      await store.put(`${prefix}${RUN_FILES.start}`, canonicalBytes({ execution_id: executionId, ref, mode, started_at: started.toISOString() }), 'application/json');
      await recorder.writeEntry();
      await recorder.beat();
    });
    // Never keeps the process alive on its own.
    recorder.heartbeat = setInterval(() => void recorder.beat(), HEARTBEAT_MS).unref();
    return recorder;
  }

  private beat(): Promise<void> {
    return this.guard(() => this.start.store.put(`${this.start.prefix}${RUN_FILES.heartbeat}`, canonicalBytes({ at: new Date().toISOString() }), 'application/json'));
  }

  /** Which secret values to hide from inputs and events, once the run knows which are present. */
  redactWith(redact: Redactor): void {
    this.redact = redact;
  }

  /** The inputs as the placement receives them (attachments as artifact references), redacted. */
  async inputs(inputs: InputsV1): Promise<void> {
    await this.guard(() => this.start.store.put(`${this.start.prefix}${RUN_FILES.inputs}`, Buffer.from(this.redact(canonicalJson(inputs))), 'application/json'));
  }

  /** An `onEvent` that stores each event and passes it on. */
  tap(next?: (event: ProcessorEvent) => void): (event: ProcessorEvent) => void {
    return (event) => {
      this.add(event);
      next?.(event);
    };
  }

  private add(event: ProcessorEvent): void {
    const redacted: Record<string, unknown> = { ...event };
    for (const field of ['message', 'text'] as const) if (typeof redacted[field] === 'string') redacted[field] = this.redact(redacted[field]);
    const line = `${canonicalJson({ t_ms: Math.round(performance.now() - this.t0), ...redacted })}\n`;
    const size = Buffer.byteLength(line);
    if (this.cut.events > 0 || this.bytes + size > MAX_EVENT_BYTES) {
      this.cut.events++;
      this.cut.bytes += size;
      return;
    }
    this.lines.push(line);
    this.bytes += size;
    this.dirty = true;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.start.store.location.startsWith('s3://') ? FLUSH_MS.s3 : FLUSH_MS.fs);
  }

  /** Writes the events so far (one whole object: S3 cannot append), after any write in flight. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      const note =
        this.cut.events > 0
          ? [`${canonicalJson({ t_ms: Math.round(performance.now() - this.t0), kind: 'note', message: `events cut at ${MAX_EVENT_BYTES} bytes: ${this.cut.events} more event(s), ${this.cut.bytes} bytes, not stored`, cut_events: this.cut.events, cut_bytes: this.cut.bytes })}\n`]
          : [];
      await this.guard(() => this.start.store.put(`${this.start.prefix}${RUN_FILES.events}`, Buffer.from([...this.lines, ...note].join('')), 'application/x-ndjson'));
    });
    return this.flushing;
  }

  /** Before the envelope is written: the last events, so a reader that sees the envelope sees them all. */
  async end(): Promise<void> {
    clearInterval(this.heartbeat);
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.cut.events > 0) this.dirty = true;
    await this.flush();
  }

  /** After the envelope and receipt are written: the entry says how the run ended. */
  async finished(envelope: Envelope): Promise<void> {
    this.entry = entryName({ ...this.summary({ status: envelope.status, error_code: envelope.status === 'error' ? envelope.error.code : null }), ref: envelope.ref, mode: envelope.meta.mode });
    await this.guard(() => this.writeEntry());
  }

  private summary(end: Pick<RunSummary, 'status' | 'error_code'>): RunSummary {
    return { execution_id: this.start.executionId, ref: this.start.ref, mode: this.start.mode, started_at: this.start.started.toISOString(), ...end };
  }

  private async writeEntry(): Promise<void> {
    const { store, prefix, executionId } = this.start;
    const idKey = `${INDEX_IDS}${executionId}`;
    // A rerun of the same id replaces the earlier run's entry: one row per execution id.
    const earlier = await store.get(idKey).then((b) => (JSON.parse(b.toString('utf8')) as RunLocation).entry, () => undefined);
    await store.put(`${INDEX_RUNS}${this.entry}`, new Uint8Array(), 'application/octet-stream');
    await store.put(idKey, canonicalBytes({ execution_id: executionId, prefix, entry: this.entry } satisfies RunLocation), 'application/json');
    if (earlier && earlier !== this.entry && isListableStore(store)) await store.remove([`${INDEX_RUNS}${earlier}`]);
  }

  private async guard(action: () => Promise<void>): Promise<void> {
    if (this.broken) return;
    try {
      await action();
    } catch {
      this.broken = true; // one failure says the store is unusable; the run's own writes will say how
    }
  }
}
