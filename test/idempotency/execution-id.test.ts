/**
 * Execution ids are idempotency keys, through the real CLI on the filesystem store and on S3, and
 * through the library under random interleavings of store operations (fast-check's scheduler).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { contentId, FsArtifactStore, MemoryArtifactStore, Registry, run, type ArtifactStore, type Envelope, type SuccessEnvelope } from '../../src/index.js';
import { cleanEnv, runCli, tempDir, type CliResult } from '../helpers/cli.js';
import { envelopeOf, errorOf } from '../helpers/envelope.js';
import { filesUnder } from '../helpers/files.js';
import { FIXTURE_REGISTRY } from '../helpers/paths.js';
import { s3Env, startS3rver, type S3Server } from '../helpers/s3rver.js';

const echoInputs = (params: Record<string, unknown>) => JSON.stringify({ schema: 'v1', params });
const outputsOf = (...names: string[]) => names.map((path) => ({ path, text: `${path} says hi` }));

function echo(id: string, params: Record<string, unknown>, extra: string[] = [], cwd?: string, env?: NodeJS.ProcessEnv): Promise<CliResult> {
  return runCli(['run', '--ref', 'testing/echo@1', '--registry', FIXTURE_REGISTRY, '--json', '-q', '--execution-id', id, '--inputs-json', echoInputs(params), ...extra], { ...(cwd && { cwd }), env: env ?? cleanEnv() });
}

/** The index names exactly the outputs present, each with the cid of its bytes. */
async function assertIndexMatches(store: ArtifactStore, prefix: string): Promise<void> {
  const index = await store.read(`${prefix}outputs.json`);
  const present = await store.list(`${prefix}outputs/`);
  if (!index) return;
  const { outputs } = JSON.parse(index.bytes.toString('utf8')) as { outputs: Array<{ path: string; cid: string }> };
  assert.deepEqual(outputs.map((o) => o.path).sort(), present, 'the index lists exactly the outputs in the store');
  for (const o of outputs) assert.equal(contentId(await store.get(o.path)), o.cid, `${o.path}: the index's cid is the bytes'`);
}

describe('execution ids as idempotency keys (filesystem store, real CLI)', () => {
  it('replays the recorded envelope byte for byte, and refuses other inputs naming the recorded hash', async () => {
    const cwd = tempDir();
    const first = await echo('k1', { outputs: outputsOf('a.txt') }, [], cwd);
    const envelope = envelopeOf(first) as SuccessEnvelope;
    assert.equal(envelope.status, 'success');
    const root = join(cwd, '.procctl/artifacts/executions/k1');
    const before = Object.fromEntries(filesUnder(root).map((f) => [f, readFileSync(join(root, f), 'utf8')]));
    const again = await echo('k1', { outputs: outputsOf('a.txt') }, [], cwd);
    assert.equal(again.stdout, first.stdout, 'same id + same inputs => same bytes');
    const other = await echo('k1', { outputs: outputsOf('b.txt') }, [], cwd);
    const error = errorOf(other, 'ERR_EXECUTION_CONFLICT', 3);
    assert.equal(error.details?.['recorded_inputs_hash'], envelope.meta.inputs_hash);
    assert.ok(error.message.includes(envelope.meta.inputs_hash as string), 'the message names the recorded inputs hash');
    assert.equal(error.retryable, false);
    const afterwards = Object.fromEntries(filesUnder(root).map((f) => [f, readFileSync(join(root, f), 'utf8')]));
    assert.deepEqual(afterwards, before, 'the refused run changed nothing, the receipt included');
  });

  it('--replace removes the old records and outputs; a failing rerun leaves no old index beside its error', async () => {
    const cwd = tempDir();
    const store = new FsArtifactStore(join(cwd, '.procctl/artifacts'));
    envelopeOf(await echo('k2', { outputs: outputsOf('old-1.txt', 'old/2.txt') }, [], cwd));
    const replaced = envelopeOf(await echo('k2', { outputs: outputsOf('new.txt') }, ['--replace'], cwd)) as SuccessEnvelope;
    assert.equal(replaced.status, 'success');
    assert.deepEqual(await store.list('executions/k2/outputs/'), ['executions/k2/outputs/new.txt'], 'stale outputs of the earlier run are gone');
    await assertIndexMatches(store, 'executions/k2/');
    const failed = await echo('k2', { fail: 'boom' }, ['--replace'], cwd);
    errorOf(failed, 'ERR_PROCESSOR_FAILED', 10);
    assert.equal(await store.has('executions/k2/outputs.json'), false, 'no index from an earlier run beside the error envelope');
    assert.deepEqual(await store.list('executions/k2/outputs/'), []);
    assert.equal(JSON.parse((await store.get('executions/k2/envelope.json')).toString()).status, 'error');
    // A recorded error is not an answer to replay: the same inputs run again.
    errorOf(await echo('k2', { fail: 'boom' }, [], cwd), 'ERR_PROCESSOR_FAILED', 10);
    // And other inputs after an error still need --replace: the id is bound to its inputs.
    errorOf(await echo('k2', { outputs: outputsOf('x') }, [], cwd), 'ERR_EXECUTION_CONFLICT', 3);
  });

  it('refused runs write nothing: bad inputs under a taken id leave its records as they were', async () => {
    const cwd = tempDir();
    const first = await echo('k3', { outputs: outputsOf('a.txt') }, [], cwd);
    const root = join(cwd, '.procctl/artifacts/executions/k3');
    const before = filesUnder(root).map((f) => readFileSync(join(root, f), 'utf8'));
    const bad = await runCli(['run', '--ref', 'testing/nope@1', '--registry', FIXTURE_REGISTRY, '--json', '--execution-id', 'k3', '--inputs-json', echoInputs({})], { cwd });
    errorOf(bad, 'ERR_PROCESSOR_NOT_FOUND', 4);
    assert.deepEqual(filesUnder(root).map((f) => readFileSync(join(root, f), 'utf8')), before);
    assert.equal((await echo('k3', { outputs: outputsOf('a.txt') }, [], cwd)).stdout, first.stdout);
  });

  it('a claim left by a killed run (its pid gone) is taken over by the same inputs', async () => {
    const cwd = tempDir();
    const store: ArtifactStore = new FsArtifactStore(join(cwd, '.procctl/artifacts'));
    const dead = { schema: 'execution-claim/v1', execution_id: 'k4', ref: 'testing/echo@1', inputs_hash: 'sha256:x', claim_id: 'c', state: 'running', status: null, owner: { host: (await import('node:os')).hostname(), pid: 2 ** 22 + 1 }, lease_expires_at: new Date(Date.now() + 3_600_000).toISOString() };
    const params = { outputs: outputsOf('a.txt') };
    // The claim's hash must be the real one for a same-inputs takeover: learn it from a dry run elsewhere.
    const probe = envelopeOf(await echo('probe', params, [], tempDir())) as SuccessEnvelope;
    await store.put('executions/k4/execution.json', Buffer.from(JSON.stringify({ ...dead, inputs_hash: probe.meta.inputs_hash })), 'application/json');
    await store.put('executions/k4/outputs/stale.txt', Buffer.from('stale'), 'text/plain');
    const taken = envelopeOf(await echo('k4', params, [], cwd));
    assert.equal(taken.status, 'success');
    assert.deepEqual(await store.list('executions/k4/outputs/'), ['executions/k4/outputs/a.txt']);
    await assertIndexMatches(store, 'executions/k4/');
  });
});

/** Starts N CLI runs of one id at once; returns their results. */
async function concurrently(n: number, id: string, paramsFor: (i: number) => Record<string, unknown>, cwd: string, env?: NodeJS.ProcessEnv): Promise<CliResult[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => echo(id, paramsFor(i), [], cwd, env)));
}

function assertOneWriter(results: CliResult[]): void {
  const successes = new Set<string>();
  for (const result of results) {
    const envelope = envelopeOf(result);
    if (envelope.status === 'success') successes.add(result.stdout);
    else assert.equal(envelope.error.code, 'ERR_EXECUTION_CONFLICT', result.stdout);
  }
  assert.equal(successes.size, 1, `exactly one run's envelope succeeded (others replay it or are refused): ${[...successes].join('')}`);
}

describe('concurrent CLI runs of one execution id', () => {
  let server: S3Server;
  before(async () => {
    server = await startS3rver();
  });
  after(() => server.stop());

  it('filesystem store: one run writes, the rest are refused or replay it; the index matches the bytes', async () => {
    const cwd = tempDir();
    const results = await concurrently(4, 'race', (i) => ({ sleep_ms: 300, outputs: outputsOf(`from-${i % 2}.txt`, 'shared.txt').map((o) => ({ ...o, text: `${o.text} ${i % 2}` })) }), cwd);
    assertOneWriter(results);
    await assertIndexMatches(new FsArtifactStore(join(cwd, '.procctl/artifacts')), 'executions/race/');
  });

  it('S3 store (conditional writes): one run writes, the rest are refused or replay it; the index matches the bytes', async () => {
    const env = cleanEnv({ ...s3Env(server.endpoint, 'S3RVER'), PROCCTL_ARTIFACTS: `s3://${server.bucket}/race` });
    const results = await concurrently(4, 'race', (i) => ({ sleep_ms: 300, outputs: outputsOf(`from-${i % 2}.txt`, 'shared.txt').map((o) => ({ ...o, text: `${o.text} ${i % 2}` })) }), tempDir(), env);
    assertOneWriter(results);
    const { S3ArtifactStore } = await import('../../src/index.js');
    const store = new S3ArtifactStore(`s3://${server.bucket}/race`, { endpoint: server.endpoint, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    await assertIndexMatches(store, 'executions/race/');
    assert.ok(await store.has('executions/race/outputs.json'));
  });
});

/** A store whose every operation starts and ends at a point the scheduler picks. */
function scheduled(s: fc.Scheduler, base: ArtifactStore): ArtifactStore {
  const step = async <T>(label: string, call: () => Promise<T>): Promise<T> => {
    await s.schedule(Promise.resolve(), `${label} starts`);
    const value = await call();
    await s.schedule(Promise.resolve(), `${label} ends`);
    return value;
  };
  return {
    location: base.location,
    put: (k, b, m) => step(`put ${k}`, () => base.put(k, b, m)),
    get: (k) => step(`get ${k}`, () => base.get(k)),
    has: (k) => step(`has ${k}`, () => base.has(k)),
    create: (k, b, m) => step(`create ${k}`, () => base.create(k, b, m)),
    read: (k) => step(`read ${k}`, () => base.read(k)),
    replaceIf: (k, b, m, v) => step(`replaceIf ${k}`, () => base.replaceIf(k, b, m, v)),
    list: (p, l) => step(`list ${p}`, () => base.list(p, l)),
    remove: (k) => step(`remove ${k.join(',')}`, () => base.remove(k)),
  };
}

describe('execution claims under random interleavings (fast-check scheduler)', () => {
  const registry = Registry.fromOptions(FIXTURE_REGISTRY);
  for (const [name, makeStore] of [
    ['memory store', () => new MemoryArtifactStore()],
    ['filesystem store', () => new FsArtifactStore(tempDir('procctl-claims-'))],
  ] as Array<[string, () => ArtifactStore]>) {
    it(`${name}: whatever the order, the final index matches the outputs, and every success is the recorded one`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.scheduler(), fc.array(fc.record({ variant: fc.integer({ min: 0, max: 2 }), replace: fc.boolean() }), { minLength: 2, maxLength: 4 }), async (s, runs) => {
          const base = makeStore();
          const store = scheduled(s, base);
          const all = Promise.all(
            runs.map(({ variant, replace }) =>
              run({ ref: 'testing/echo@1', registry, store, mode: 'mock', executionId: 'p', replace, inputs: { schema: 'v1', params: { outputs: outputsOf(`v${variant}.txt`, 'both.txt').map((o) => ({ ...o, text: `${o.text} ${variant}` })) } } }),
            ),
          );
          const results = await s.waitFor(all);
          await assertIndexMatches(base, 'executions/p/');
          const claim = JSON.parse((await base.get('executions/p/execution.json')).toString()) as { inputs_hash: string; state: string };
          assert.equal(claim.state, 'done');
          const recorded = JSON.parse((await base.get('executions/p/envelope.json')).toString()) as Envelope;
          assert.equal(recorded.meta.inputs_hash, claim.inputs_hash, 'the recorded envelope is the claim holder\'s');
          for (const { envelope } of results) {
            if (envelope.status === 'error') assert.equal(envelope.error.code, 'ERR_EXECUTION_CONFLICT');
          }
          // The last success for the claim's inputs is what the store holds.
          if (recorded.status === 'success') {
            const index = JSON.parse((await base.get('executions/p/outputs.json')).toString()) as { outputs: unknown[] };
            assert.deepEqual(index.outputs, recorded.outputs);
          }
        }),
        { numRuns: 40 },
      );
    });
  }
});
