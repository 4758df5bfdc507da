/**
 * Listing runs in S3 asks the index, not the store: against a real S3 server (s3rver), a listing
 * is one marker check and one LIST of index names, with no object read per run, however many runs
 * the bucket holds.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Registry, run, S3ArtifactStore } from '../../src/index.js';
import { RunCatalog } from '../../src/runs/catalog.js';
import { FIXTURE_REGISTRY } from '../helpers/paths.js';
import { S3RVER_ACCESS_KEY_ID, startS3rver, type S3Server } from '../helpers/s3rver.js';

let s3: S3Server;
before(async () => {
  s3 = await startS3rver();
});
after(async () => {
  await s3.stop();
});

test('runs list over S3 reads index names only: no GET per run', async () => {
  const store = new S3ArtifactStore(`s3://${s3.bucket}/idx`, { endpoint: s3.endpoint, credentials: { accessKeyId: S3RVER_ACCESS_KEY_ID, secretAccessKey: 'x' } });
  const registry = new Registry(FIXTURE_REGISTRY);
  for (let i = 0; i < 6; i++) await run({ ref: 'testing/echo@1', inputs: { schema: 'v1', params: { ...(i % 2 === 1 && { fail: 'odd' }) } }, executionId: `s3-${i}`, store, registry });
  await new RunCatalog(store).list(); // builds the marker on first use
  const calls: string[] = [];
  const counted = new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(`${String(name)} ${String(args[0])}`);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const catalog = new RunCatalog(counted);
  const newest = await catalog.list({ limit: 2 });
  assert.deepEqual(newest.map((r) => r.execution_id), ['s3-5', 's3-4']);
  assert.deepEqual(calls, ['has index/v1.json', 'list index/runs/']);
  calls.length = 0;
  const failed = await catalog.list({ status: 'error' });
  assert.deepEqual(failed.map((r) => r.execution_id), ['s3-5', 's3-3', 's3-1']);
  assert.deepEqual(calls, ['has index/v1.json', 'list index/runs/']);
  calls.length = 0;
  // One run's records: found through its id entry, not by listing.
  assert.equal((await catalog.show('s3-2')).summary.status, 'success');
  assert.ok(!calls.some((c) => c.startsWith('list')), calls.join(', '));
});
