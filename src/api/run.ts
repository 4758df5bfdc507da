/**
 * `run`: the library call behind `procctl run`. It resolves the registry entry, settles the mode,
 * stores attachments, works out which secrets are present (names only) and hands everything to an
 * adapter; then it records the envelope and a receipt (the timings) beside the outputs.
 */
import { randomUUID } from 'node:crypto';
import { canonicalBytes } from '../contracts/canonical-json.js';
import type { Envelope } from '../contracts/envelope.js';
import { checkInputs, resolveMode, type InputsV1, type Mode } from '../contracts/inputs.js';
import { applyAttachments, type AttachSpec } from '../artifacts/attachments.js';
import { DEFAULT_WRITE_PREFIX, resolveWritePrefix } from '../artifacts/paths.js';
import type { ArtifactStore } from '../artifacts/store.js';
import { InProcessAdapter } from '../adapters/local/in-process.js';
import { failureFor } from '../adapters/envelope-for.js';
import type { Adapter, AdapterOpts } from '../adapters/types.js';
import { Registry, type RegistrySnapshot } from '../registry/registry.js';
import { secretsPresentIn } from './secrets.js';
import { secretRedactor } from '../execution/redact.js';
import { RunRecorder, type RecorderStart } from '../runs/recorder.js';

export interface RunOptions {
  ref: string;
  inputs: InputsV1;
  mode?: Mode;
  attachments?: AttachSpec[];
  executionId?: string;
  writePrefix?: string;
  store: ArtifactStore;
  registry?: Registry;
  /** The placement; in-process local by default. */
  adapter?: Adapter;
  adapterOpts?: AdapterOpts;
  env?: NodeJS.ProcessEnv;
}

export interface RunResult {
  envelope: Envelope;
  /** Wall-clock facts, kept out of the envelope so its bytes stay reproducible. */
  receipt: { execution_id: string; adapter: string; started_at: string; finished_at: string; duration_ms: number; store: string; registry_entry_cid: string | null };
}

export async function run(options: RunOptions): Promise<RunResult> {
  const started = new Date();
  const t0 = performance.now();
  const env = options.env ?? process.env;
  const registry = options.registry ?? Registry.fromOptions(undefined, env);
  const executionId = options.executionId ?? randomUUID();
  const writePrefix = options.writePrefix ?? DEFAULT_WRITE_PREFIX;
  const adapter = options.adapter ?? new InProcessAdapter({ store: options.store, registryDir: registry.dir, env });
  let snapshot: RegistrySnapshot | undefined;
  let mode: Mode = options.inputs.mode ?? options.mode ?? 'mock';
  let secretsPresent: string[] = [];
  let envelope: Envelope;
  // Inputs that are not I-JSON or not inputs v1 are refused once, here, before anything is stored
  // (no attachment copy, no records, no envelope on record), with the same envelope whatever the placement.
  let refused = false;
  let recorder: RunRecorder | undefined;
  try {
    try {
      checkInputs(options.inputs, 'inputs');
    } catch (err) {
      refused = true;
      throw err;
    }
    recorder = await beginRecord(options.store, writePrefix, { executionId, ref: options.ref, mode, started });
    snapshot = registry.snapshot(options.ref);
    const inputs = resolveMode(options.inputs, options.mode);
    mode = inputs.mode;
    secretsPresent = inputs.mode === 'real' ? secretsPresentIn(snapshot.entry, env) : [];
    recorder?.redactWith(secretRedactor(secretsPresent, env));
    const inputsJson = await applyAttachments(inputs, options.attachments ?? [], options.store);
    await recorder?.inputs(inputsJson);
    const adapterOpts = options.adapterOpts ?? {};
    envelope = await adapter.invoke({
      processorRef: snapshot.ref,
      inputsJson,
      writePrefix,
      executionId,
      registrySnapshot: snapshot,
      adapterOpts: recorder ? { ...adapterOpts, onEvent: recorder.tap(adapterOpts.onEvent) } : adapterOpts,
      secretsPresent,
    });
  } catch (err) {
    envelope = failureFor({ ref: options.ref, executionId, mode, ...(snapshot && { snapshot }), secretsPresent }, err);
  }
  const finished = new Date();
  const receipt: RunResult['receipt'] = {
    execution_id: executionId,
    adapter: adapter.name,
    started_at: started.toISOString(),
    finished_at: finished.toISOString(),
    duration_ms: Math.round((performance.now() - t0) * 1000) / 1000,
    store: options.store.location,
    registry_entry_cid: snapshot?.entry_cid ?? null,
  };
  // A store that just failed would only fail (or time out) again: the envelope already says so.
  await recorder?.end();
  if (!refused && (envelope.status === 'success' || envelope.error.code !== 'ERR_ARTIFACT_STORE')) {
    await recordRun(options.store, writePrefix, executionId, envelope, receipt);
    await recorder?.finished(envelope);
  }
  return { envelope, receipt };
}

/** Starts the run's records (see src/runs), when the prefix is usable at all. */
async function beginRecord(store: ArtifactStore, template: string, start: Omit<RecorderStart, 'store' | 'prefix'>): Promise<RunRecorder | undefined> {
  let prefix: string;
  try {
    prefix = resolveWritePrefix(template, start.executionId);
  } catch {
    return undefined; // the adapter reports the bad prefix or id in the envelope
  }
  return RunRecorder.begin({ store, prefix, ...start });
}

/** Keeps the envelope and receipt beside the outputs, when the prefix is usable at all. */
async function recordRun(store: ArtifactStore, template: string, executionId: string, envelope: Envelope, receipt: RunResult['receipt']): Promise<void> {
  let prefix: string;
  try {
    prefix = resolveWritePrefix(template, executionId);
  } catch {
    return; // the envelope already reports the bad prefix; there is nowhere to record it
  }
  try {
    await store.put(`${prefix}envelope.json`, canonicalBytes(envelope), 'application/json');
    await store.put(`${prefix}receipt.json`, canonicalBytes(receipt), 'application/json');
  } catch {
    // Recording is a convenience; the envelope on stdout is the result. A store that failed here
    // has already failed the run's own writes, which the envelope reports.
  }
}
