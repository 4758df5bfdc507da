/**
 * From the outputs a processor produced to stored artifacts and their index. Planning checks every
 * path before anything is written, so a bad or duplicate path leaves nothing behind; the index is
 * written last, so a reader never sees an index for outputs that are not there.
 */
import { canonicalBytes } from '../contracts/canonical-json.js';
import { contentId } from '../contracts/content-id.js';
import { compareCodeUnits, type OutputRecord } from '../contracts/envelope.js';
import { ProcctlError } from '../contracts/errors.js';
import { canonicalPath } from './paths.js';
import type { ArtifactStore } from './store.js';

export interface ProducedOutput {
  /** The path as the processor named it. */
  path: string;
  bytes: Uint8Array;
  mime: string;
}

export interface PlannedOutput extends OutputRecord {
  /** The path relative to `{prefix}outputs/`, canonical. */
  relative: string;
  bytes: Uint8Array;
}

export interface OutputPlan {
  outputs: PlannedOutput[];
  indexPath: string;
}

export function outputsKey(prefix: string, relative: string): string {
  return `${prefix}outputs/${relative}`;
}

export function indexKey(prefix: string): string {
  return `${prefix}outputs.json`;
}

export function planOutputs(prefix: string, produced: readonly ProducedOutput[]): OutputPlan {
  const byPath = new Map<string, ProducedOutput>();
  for (const output of produced) {
    const relative = canonicalPath(output.path);
    const twin = byPath.get(relative);
    if (twin) {
      throw new ProcctlError('ERR_OUTPUT_DUPLICATE', `outputs ${JSON.stringify(twin.path)} and ${JSON.stringify(output.path)} both canonicalise to ${JSON.stringify(relative)}`, { path: relative, sources: [twin.path, output.path] });
    }
    byPath.set(relative, output);
  }
  const relatives = [...byPath.keys()].sort(compareCodeUnits);
  // A path that is also another's directory ("a" and "a/b") cannot exist on a filesystem; refuse
  // it everywhere so every store accepts the same sets of outputs.
  for (let i = 0; i + 1 < relatives.length; i++) {
    const [a, b] = [relatives[i] as string, relatives[i + 1] as string];
    if (b.startsWith(`${a}/`)) throw new ProcctlError('ERR_OUTPUT_PATH', `output path ${JSON.stringify(a)} is both a file and the directory of ${JSON.stringify(b)}`, { path: a, reason: 'file and directory' });
  }
  const outputs = relatives.map((relative): PlannedOutput => {
    const { bytes, mime } = byPath.get(relative) as ProducedOutput;
    return { relative, path: outputsKey(prefix, relative), cid: contentId(bytes), size_bytes: bytes.byteLength, mime, bytes };
  });
  return { outputs, indexPath: indexKey(prefix) };
}

export function outputRecords(plan: OutputPlan): OutputRecord[] {
  return plan.outputs.map(({ path, cid, size_bytes, mime }) => ({ path, cid, size_bytes, mime }));
}

/** The index document: the same records as the envelope, so either can be checked by the other. */
export function indexDocument(executionId: string, ref: string, records: OutputRecord[]): Buffer {
  return canonicalBytes({ schema: 'outputs-index/v1', execution_id: executionId, ref, outputs: records });
}

export async function writeOutputs(store: ArtifactStore, plan: OutputPlan, executionId: string, ref: string): Promise<void> {
  for (const output of plan.outputs) await store.put(output.path, output.bytes, output.mime);
  await store.put(plan.indexPath, indexDocument(executionId, ref, outputRecords(plan)), 'application/json');
}
