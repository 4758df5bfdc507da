/**
 * The store primitives claims rest on (exclusive create, compare-and-swap, delete, list), the same
 * in every store, and the claim rules for holders that are alive, dead or elsewhere.
 */
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { canonicalBytes, claimExecution, FsArtifactStore, MemoryArtifactStore, ProcctlError, S3ArtifactStore, type ArtifactStore } from '../../src/index.js';
import { tempDir } from '../helpers/cli.js';
import { S3RVER_ACCESS_KEY_ID, startS3rver, type S3Server } from '../helpers/s3rver.js';

const bytes = (text: string) => Buffer.from(text);

describe('conditional store primitives, in every store', () => {
  let server: S3Server;
  before(async () => {
    server = await startS3rver();
  });
  after(() => server.stop());

  const stores: Array<[string, () => ArtifactStore]> = [
    ['memory', () => new MemoryArtifactStore()],
    ['filesystem', () => new FsArtifactStore(tempDir('procctl-prim-'))],
    ['S3', () => new S3ArtifactStore(`s3://${server.bucket}/prim-${Math.random().toString(36).slice(2)}`, { endpoint: server.endpoint, credentials: { accessKeyId: S3RVER_ACCESS_KEY_ID, secretAccessKey: 'S3RVER' } })],
  ];
  for (const [name, make] of stores) {
    it(`${name}: create is exclusive, replaceIf swaps only the version read, delete and list agree`, async () => {
      const store = make();
      const v1 = await store.create('x/claim.json', bytes('one'), 'application/json');
      assert.ok(v1 !== undefined, 'the first create wins');
      assert.equal(await store.create('x/claim.json', bytes('two'), 'application/json'), undefined, 'a second create loses');
      assert.equal((await store.get('x/claim.json')).toString(), 'one', 'and changes nothing');
      const read = await store.read('x/claim.json');
      assert.equal(read?.version, v1);
      const v2 = await store.replaceIf('x/claim.json', bytes('three'), 'application/json', v1 as string);
      assert.ok(v2 !== undefined && v2 !== v1);
      assert.equal(await store.replaceIf('x/claim.json', bytes('stale'), 'application/json', v1 as string), undefined, 'a stale version loses');
      assert.equal((await store.get('x/claim.json')).toString(), 'three');
      assert.equal(await store.replaceIf('x/absent.json', bytes('z'), 'application/json', 'v'), undefined, 'an absent key cannot be swapped');
      assert.equal(await store.read('x/absent.json'), undefined);
      // Racing creators: exactly one wins.
      const wins = await Promise.all(Array.from({ length: 8 }, (_, i) => store.create('x/race.json', bytes(`r${i}`), 'application/json')));
      assert.equal(wins.filter((v) => v !== undefined).length, 1);
      await store.put('x/outputs/a.txt', bytes('a'), 'text/plain');
      await store.put('x/outputs/b/c.txt', bytes('c'), 'text/plain');
      assert.deepEqual(await store.list('x/outputs/'), ['x/outputs/a.txt', 'x/outputs/b/c.txt']);
      await store.remove(['x/outputs/a.txt', 'x/outputs/never.txt']);
      assert.deepEqual(await store.list('x/outputs/'), ['x/outputs/b/c.txt']);
      assert.deepEqual(await store.list('nothing/here/'), []);
    });
  }
});

describe('claim rules for a holder that is alive, dead or elsewhere', () => {
  const request = { executionId: 'c1', ref: 'testing/echo@1', inputsHash: 'sha256:aaa' };
  const claimOf = (owner: { host: string; pid: number }, leaseMs: number, extra: Record<string, unknown> = {}) => ({
    schema: 'execution-claim/v1',
    execution_id: 'c1',
    ref: 'testing/echo@1',
    inputs_hash: 'sha256:aaa',
    claim_id: 'old',
    state: 'running',
    status: null,
    owner,
    lease_expires_at: new Date(Date.now() + leaseMs).toISOString(),
    ...extra,
  });
  const seeded = async (claim: Record<string, unknown>) => {
    const store = new MemoryArtifactStore();
    await store.put('executions/c1/execution.json', canonicalBytes(claim), 'application/json');
    await store.put('executions/c1/outputs/old.txt', bytes('old'), 'text/plain');
    return store;
  };
  const refusal = async (store: ArtifactStore, extra: Record<string, unknown> = {}) => {
    const err = await claimExecution(store, 'executions/c1/', { ...request, ...extra }).then(
      () => assert.fail('expected ERR_EXECUTION_CONFLICT'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ProcctlError && err.code === 'ERR_EXECUTION_CONFLICT', String(err));
    return err;
  };

  it('a live holder on this host (this very process): in progress, retryable, even with replace', async () => {
    const store = await seeded(claimOf({ host: hostname(), pid: process.pid }, 60_000));
    const err = await refusal(store, { replace: true });
    assert.equal(err.retryable, true);
    assert.equal(err.details?.['in_progress'], true);
    assert.deepEqual(await store.list('executions/c1/outputs/'), ['executions/c1/outputs/old.txt'], 'nothing touched');
  });

  it('a holder on another host within its lease: in progress', async () => {
    await refusal(await seeded(claimOf({ host: 'elsewhere.invalid', pid: 1 }, 60_000)));
  });

  it('a holder on another host past its lease: taken over, old outputs removed', async () => {
    const store = await seeded(claimOf({ host: 'elsewhere.invalid', pid: 1 }, -1000));
    const outcome = await claimExecution(store, 'executions/c1/', request);
    assert.equal(outcome.kind, 'claimed');
    assert.deepEqual(await store.list('executions/c1/outputs/'), []);
    if (outcome.kind === 'claimed') assert.equal(await outcome.held.finish('error'), true);
  });

  it('an expired holder with other inputs still needs replace', async () => {
    const store = await seeded(claimOf({ host: 'elsewhere.invalid', pid: 1 }, -1000, { inputs_hash: 'sha256:bbb' }));
    const err = await refusal(store);
    assert.equal(err.details?.['recorded_inputs_hash'], 'sha256:bbb');
    assert.equal(err.retryable, false);
    assert.equal((await claimExecution(store, 'executions/c1/', { ...request, replace: true })).kind, 'claimed');
  });

  it('a holder that lost its claim to a takeover knows it and cannot mark it done', async () => {
    const store = new MemoryArtifactStore();
    const first = await claimExecution(store, 'executions/c1/', { ...request, leaseMs: 1 });
    assert.equal(first.kind, 'claimed');
    await new Promise((resolve) => setTimeout(resolve, 5));
    // Same process, so the pid check says alive: fake another host's claim by rewriting the owner.
    const current = await store.read('executions/c1/execution.json');
    const parsed = JSON.parse(String(current?.bytes)) as Record<string, unknown>;
    await store.replaceIf('executions/c1/execution.json', canonicalBytes({ ...parsed, owner: { host: 'elsewhere.invalid', pid: 1 } }), 'application/json', current?.version as string);
    const second = await claimExecution(store, 'executions/c1/', request);
    assert.equal(second.kind, 'claimed');
    if (first.kind === 'claimed') {
      assert.equal(await first.held.stillHeld(), false);
      assert.equal(await first.held.finish('success'), false);
    }
    if (second.kind === 'claimed') assert.equal(await second.held.finish('success'), true);
  });
});
