/**
 * Property: `gc` never removes bytes a remaining run needs. Random runs (real `run` calls, the
 * in-process placement, the filesystem store) share attachments drawn from a small pool; random
 * runs are removed; gc runs (sometimes with a cut-off); every remaining run still verifies —
 * every attachment its inputs name and every output it recorded reads back with its cid — and no
 * attachment is left that no run refers to.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { FsArtifactStore, Registry, run } from '../../src/index.js';
import { RunCatalog, verifyRun } from '../../src/runs/catalog.js';
import { collectGarbage, removeRuns } from '../../src/runs/removal.js';
import { tempDir } from '../helpers/cli.js';
import { FIXTURE_REGISTRY } from '../helpers/paths.js';

const POOL = 4;

test('gc never removes bytes a remaining run needs', async () => {
  const files = tempDir('procctl-gc-files-');
  const pool = Array.from({ length: POOL }, (_, i) => {
    const file = join(files, `a${i}.bin`);
    writeFileSync(file, `attachment ${i}\n`.repeat(i + 1));
    return file;
  });
  const registry = new Registry(FIXTURE_REGISTRY);
  const scenario = fc.record({
    runs: fc.array(fc.record({ attachments: fc.subarray([...pool.keys()]), fail: fc.boolean() }), { minLength: 1, maxLength: 6 }),
    removals: fc.array(fc.nat(), { maxLength: 4 }),
    cutOff: fc.option(fc.nat(), { nil: undefined }),
  });
  await fc.assert(
    fc.asyncProperty(scenario, async ({ runs, removals, cutOff }) => {
      const store = new FsArtifactStore(tempDir('procctl-gc-store-'));
      const catalog = new RunCatalog(store);
      const ids: string[] = [];
      for (const [i, spec] of runs.entries()) {
        const id = `run-${i}`;
        const attachments = spec.attachments.map((n) => ({ name: `f${n}`, file: pool[n] as string }));
        const params = { attachments: spec.attachments.map((n) => ({ $attach: `f${n}` })), outputs: [{ path: 'out.txt', text: `run ${i}` }], ...(spec.fail && { fail: 'no' }) };
        await run({ ref: 'testing/echo@1', inputs: { schema: 'v1', params }, attachments, executionId: id, store, registry });
        ids.push(id);
      }
      const removed = new Set(removals.map((n) => ids[n % ids.length] as string));
      await removeRuns(catalog, [...removed]);
      const listed = await catalog.list();
      // A cut-off inside the runs' start times removes the older part of what remains.
      const olderThan = cutOff === undefined || listed.length === 0 ? undefined : new Date(Date.parse((listed[cutOff % listed.length] as { started_at: string }).started_at));
      const report = await collectGarbage(catalog, { ...(olderThan && { olderThan }) });
      assert.equal(report.attachments_held_by, undefined);
      const remaining = await catalog.list();
      for (const row of remaining) assert.deepEqual(await verifyRun(catalog, row.execution_id), [], `${row.execution_id} still verifies`);
      for (const gone of [...removed, ...report.runs_removed.map((r) => r.execution_id)]) assert.ok(!remaining.some((r) => r.execution_id === gone));
      // Nothing needless is left either: every stored attachment is named by a remaining run.
      const named = new Set<string>();
      for (const row of remaining) {
        const { inputs } = await catalog.show(row.execution_id);
        for (const ref of (inputs?.['params'] as { attachments?: { $artifact: string }[] } | undefined)?.attachments ?? []) named.add(ref.$artifact);
      }
      assert.deepEqual(await store.list('inputs/'), [...named].sort());
    }),
    { numRuns: 25 },
  );
});
