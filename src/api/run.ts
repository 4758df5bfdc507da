/**
 * `run`: the library call behind `procctl run`. It resolves the registry entry, settles the mode,
 * stores attachments, works out which secrets are present (names only) and hands everything to an
 * adapter; then it records the envelope and a receipt (the timings) beside the outputs.
 */
import { randomUUID } from 'node:crypto';
import { canonicalBytes } from '../contracts/canonical-json.js';
import type { Envelope } from '../contracts/envelope.js';
import { checkInputs, inputsHash, resolveMode, type InputsV1, type Mode } from '../contracts/inputs.js';
import { applyAttachments, type AttachSpec } from '../artifacts/attachments.js';
import { claimExecution, envelopeKey, receiptKey, type HeldClaim } from '../artifacts/execution-record.js';
import { DEFAULT_WRITE_PREFIX, resolveWritePrefix } from '../artifacts/paths.js';
import type { ArtifactStore } from '../artifacts/store.js';
import { InProcessAdapter } from '../adapters/local/in-process.js';
import { failureFor } from '../adapters/envelope-for.js';
import type { Adapter, AdapterOpts } from '../adapters/types.js';
import { Registry, type RegistrySnapshot } from '../registry/registry.js';
import { secretsPresentIn } from './secrets.js';
import { secretRedactor } from '../execution/redact.js';
import { RunRecorder } from '../runs/recorder.js';

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
  /** Run even if the execution id holds a finished run with other inputs, discarding its records. */
  replace?: boolean;
  /** How long this run's claim on the execution id lasts without renewal (default 30 s). */
  leaseMs?: number;
}

export interface RunResult {
  envelope: Envelope;
  /** Wall-clock facts, kept out of the envelope so its bytes stay reproducible. */
  receipt: { execution_id: string; adapter: string; replayed: boolean; started_at: string; finished_at: string; duration_ms: number; store: string; registry_entry_cid: string | null };
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
  let held: HeldClaim | undefined;
  let replayed = false;
  let recorder: RunRecorder | undefined;
  try {
    // Inputs that are not I-JSON or not inputs v1 are refused once, here, before anything is stored
    // (no attachment copy, no records), with the same envelope whatever the placement.
    checkInputs(options.inputs, 'inputs');
    snapshot = registry.snapshot(options.ref);
    const inputs = resolveMode(options.inputs, options.mode);
    mode = inputs.mode;
    secretsPresent = inputs.mode === 'real' ? secretsPresentIn(snapshot.entry, env) : [];
    const inputsJson = await applyAttachments(inputs, options.attachments ?? [], options.store);
    // The execution id is an idempotency key: claim it before anything is written under it.
    const prefix = resolveWritePrefix(writePrefix, executionId);
    const hash = inputsHash({ ...inputsJson, mode });
    const claim = await claimExecution(options.store, prefix, { executionId, ref: snapshot.ref, inputsHash: hash, ...(options.replace && { replace: true }), ...(options.leaseMs !== undefined && { leaseMs: options.leaseMs }) });
    if (claim.kind === 'recorded') {
      envelope = claim.envelope;
      replayed = true;
    } else {
      held = claim.held;
      // The run's history records (src/runs) start only once the id is this run's.
      recorder = await RunRecorder.begin({ store: options.store, prefix, executionId, ref: snapshot.ref, mode, started });
      recorder.redactWith(secretRedactor(secretsPresent, env));
      await recorder.inputs(inputsJson);
      const adapterOpts = options.adapterOpts ?? {};
      envelope = await adapter.invoke({
        processorRef: snapshot.ref,
        inputsJson,
        writePrefix,
        executionId,
        registrySnapshot: snapshot,
        adapterOpts: { ...adapterOpts, onEvent: recorder.tap(adapterOpts.onEvent) },
        secretsPresent,
      });
    }
  } catch (err) {
    envelope = failureFor({ ref: options.ref, executionId, mode, ...(snapshot && { snapshot }), secretsPresent }, err);
  }
  const finished = new Date();
  const receipt: RunResult['receipt'] = {
    execution_id: executionId,
    adapter: replayed ? 'recorded' : adapter.name,
    replayed,
    started_at: started.toISOString(),
    finished_at: finished.toISOString(),
    duration_ms: Math.round((performance.now() - t0) * 1000) / 1000,
    store: options.store.location,
    registry_entry_cid: snapshot?.entry_cid ?? null,
  };
  // Only the claim's holder records; a refused run (bad inputs, a taken id) writes nothing.
  await recorder?.end();
  if (held) {
    await recordRun(options.store, held, resolveWritePrefix(writePrefix, executionId), envelope, receipt);
    await recorder?.finished(envelope);
  }
  return { envelope, receipt };
}

/**
 * Keeps the envelope and receipt beside the outputs, then marks the claim done. A holder whose
 * lease ran out and was taken over records nothing: the records are the new holder's.
 */
async function recordRun(store: ArtifactStore, held: HeldClaim, prefix: string, envelope: Envelope, receipt: RunResult['receipt']): Promise<void> {
  try {
    if (!(await held.stillHeld())) return;
    await store.put(envelopeKey(prefix), canonicalBytes(envelope), 'application/json');
    await store.put(receiptKey(prefix), canonicalBytes(receipt), 'application/json');
    await held.finish(envelope.status);
  } catch {
    // Recording is a convenience; the envelope on stdout is the result. A store that failed here
    // has most likely failed the run's own writes, which the envelope reports; the claim, not
    // marked done, is taken over by the next run of the id once this process has exited.
  }
}
