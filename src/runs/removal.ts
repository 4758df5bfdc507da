/**
 * Removing runs (`procctl runs rm`) and collecting garbage (`procctl runs gc`): executions older
 * than a cut-off, then the attachment bytes under `inputs/` that no remaining run refers to.
 *
 * Attachments are shared between runs (stored once per content id), so bytes go only when every
 * remaining run's `inputs.json` has been read and none names them. A remaining run whose inputs
 * are not known — written by an older procctl, or still starting — keeps every attachment: gc
 * would rather leave bytes than break a run.
 */
import { collectArtifactRefs } from '../artifacts/attachments.js';
import { attachmentKey } from '../artifacts/paths.js';
import type { RunCatalog } from './catalog.js';
import { INDEX_IDS, INDEX_RUNS, RUN_FILES, type RunSummary } from './layout.js';

export interface RemovedRun {
  execution_id: string;
  prefix: string;
  keys: number;
}

/** Removes runs: every key under each run's prefix (not another run's nested inside it) and its index entries. */
export async function removeRuns(catalog: RunCatalog, executionIds: readonly string[], options: { dryRun?: boolean } = {}): Promise<RemovedRun[]> {
  const removed: RemovedRun[] = [];
  for (const executionId of executionIds) {
    const location = await catalog.locate(executionId);
    const keys = ownKeys(location.prefix, await catalog.store.list(location.prefix));
    const index = [`${INDEX_IDS}${executionId}`, ...(location.entry ? [`${INDEX_RUNS}${location.entry}`] : [])];
    if (!options.dryRun) {
      // The index first: a run half removed is then not listed, rather than listed and broken.
      await catalog.store.remove(index);
      await catalog.store.remove(keys);
    }
    removed.push({ execution_id: executionId, prefix: location.prefix, keys: keys.length });
  }
  return removed;
}

/** Keys under a prefix minus those of runs nested inside it (a custom write prefix can do that). */
function ownKeys(prefix: string, keys: string[]): string[] {
  const nested = new Set<string>();
  for (const key of keys) {
    const slash = key.lastIndexOf('/');
    const file = key.slice(slash + 1);
    const dir = key.slice(0, slash + 1);
    if (dir !== prefix && !dir.startsWith(`${prefix}outputs/`) && (file === RUN_FILES.envelope || file === RUN_FILES.start)) nested.add(dir);
  }
  return keys.filter((key) => ![...nested].some((dir) => key.startsWith(dir)));
}

export interface GcOptions {
  /** Remove finished executions that started before this time. */
  olderThan?: Date;
  dryRun?: boolean;
}

export interface GcReport {
  dry_run: boolean;
  runs_removed: RemovedRun[];
  attachments_removed: string[];
  attachments_kept: number;
  /** Set when no attachment could be removed, saying why. */
  attachments_held_by?: string;
}

const ATTACHMENTS = 'inputs/sha256/';

export async function collectGarbage(catalog: RunCatalog, options: GcOptions = {}): Promise<GcReport> {
  const dryRun = options.dryRun ?? false;
  const all = await catalog.list();
  const expired = options.olderThan ? all.filter((row) => row.status !== 'running' && Date.parse(row.started_at) < (options.olderThan as Date).getTime()) : [];
  const runsRemoved = await removeRuns(
    catalog,
    expired.map((row) => row.execution_id),
    { dryRun },
  );
  const gone = new Set(expired.map((row) => row.execution_id));
  const stored = await catalog.store.list(ATTACHMENTS);
  const referenced = new Set<string>();
  const seen = new Set<string>();
  // Runs that start while gc works can reuse stored bytes; list again until no new run appears.
  for (let pass = 0; pass < 5; pass++) {
    const remaining = (pass === 0 ? all : await catalog.list()).filter((row) => !gone.has(row.execution_id) && !seen.has(row.execution_id));
    if (remaining.length === 0 && pass > 0) break;
    const held = await addReferences(catalog, remaining, referenced);
    if (held) return { dry_run: dryRun, runs_removed: runsRemoved, attachments_removed: [], attachments_kept: stored.length, attachments_held_by: held };
    for (const row of remaining) seen.add(row.execution_id);
  }
  const orphans = stored.filter((key) => !referenced.has(key));
  if (!dryRun) await catalog.store.remove(orphans);
  return { dry_run: dryRun, runs_removed: runsRemoved, attachments_removed: orphans, attachments_kept: stored.length - orphans.length };
}

/** Adds the attachment keys these runs' inputs name; returns why it cannot, if a run's inputs are unknown. */
async function addReferences(catalog: RunCatalog, rows: readonly RunSummary[], referenced: Set<string>): Promise<string | undefined> {
  for (const row of rows) {
    const { prefix } = await catalog.locate(row.execution_id);
    const inputs = await catalog.readJson(`${prefix}${RUN_FILES.inputs}`);
    if (inputs === null) {
      if (row.status === 'running') return `execution ${row.execution_id} is still starting (its inputs are not recorded yet); run gc again later`;
      if (!(await catalog.store.has(`${prefix}${RUN_FILES.start}`))) return `execution ${row.execution_id} was recorded without its inputs (an older procctl); remove it (procctl runs rm) or keep its attachments`;
      continue; // it failed before its inputs were resolved: it refers to nothing
    }
    for (const ref of collectArtifactRefs(inputs)) referenced.add(ref.$artifact.startsWith(ATTACHMENTS) ? ref.$artifact : attachmentKey(ref.cid));
  }
  return undefined;
}
