/**
 * Listing runs: the median wall time of `procctl runs list` over 10,000 stored runs in the
 * filesystem store, as a ratio to `node -e 0`, both measured here, interleaved.
 * Goal (issue 11): list_ratio <= 3.
 *
 * The store is written directly (each run's envelope, receipt and start record, as `run` leaves
 * them), then the index is rebuilt from those records once, as a store written by an older
 * procctl would be; only the listing is timed.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canonicalJson } from '../src/contracts/canonical-json.js';
import { FsArtifactStore } from '../src/artifacts/fs-store.js';
import { RunCatalog } from '../src/runs/catalog.js';
import { report, reportRatio, timeProcess } from './stats.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 15);
const STORED = Number(process.env['BENCH_STORED_RUNS'] ?? 10_000);
const bin = fileURLToPath(new URL('../src/cli/procctl.js', import.meta.url));
const root = join(mkdtempSync(join(tmpdir(), 'procctl-bench-runs-')), 'artifacts');
const t0 = Date.parse('2026-01-01T00:00:00Z');
for (let i = 0; i < STORED; i++) {
  const id = `bench-${String(i).padStart(5, '0')}`;
  const dir = join(root, 'executions', id);
  mkdirSync(dir, { recursive: true });
  const started = new Date(t0 + i * 1000).toISOString();
  const ok = i % 10 !== 0;
  const meta = { env_fingerprint: `sha256:${'0'.repeat(64)}`, image_digest: null, inputs_hash: null, mode: 'mock', platform: 'linux/amd64', secrets_present: [] };
  const envelope = ok
    ? { execution_id: id, index_path: `executions/${id}/outputs.json`, meta, outputs: [], ref: 'llm/litellm@1', status: 'success' }
    : { error: { code: 'ERR_PROVIDER', message: 'upstream said no', retryable: true }, execution_id: id, meta, ref: 'llm/litellm@1', status: 'error' };
  writeFileSync(join(dir, 'envelope.json'), canonicalJson(envelope));
  writeFileSync(join(dir, 'receipt.json'), canonicalJson({ adapter: 'local', duration_ms: 5, execution_id: id, finished_at: started, registry_entry_cid: null, started_at: started, store: 'file://' }));
  writeFileSync(join(dir, 'run.json'), canonicalJson({ execution_id: id, mode: 'mock', ref: 'llm/litellm@1', started_at: started }));
}
const indexed = await new RunCatalog(new FsArtifactStore(root)).reindex();
if (indexed !== STORED) throw new Error(`the index holds ${indexed} runs, not ${STORED}`);

const list = [bin, 'runs', 'list', '--artifacts', root];
timeProcess(process.execPath, ['-e', '0']);
timeProcess(process.execPath, list);
const nodeTimes: number[] = [];
const listTimes: number[] = [];
for (let i = 0; i < RUNS; i++) {
  nodeTimes.push(timeProcess(process.execPath, ['-e', '0']));
  listTimes.push(timeProcess(process.execPath, list));
}
report('stored_runs', STORED, 0);
reportRatio('list_ratio', ['node_e0_median_ms', nodeTimes], ['runs_list_median_ms', listTimes]);
