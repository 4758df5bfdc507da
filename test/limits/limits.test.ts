/**
 * One set of limits in every placement (src/contracts/limits.ts): the same inputs get the same
 * typed answer, byte for byte, in-process and over the protocol, checked before anything is read,
 * stored or sent; the runtime serves on afterwards. Property-based around each limit, plus the
 * issue's examples through the real bin (400k placeholders in a 7 MB input, a 500 MB attachment).
 */
import assert from 'node:assert/strict';
import { closeSync, openSync, ftruncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { canonicalJson } from '../../src/contracts/canonical-json.js';
import { LIMITS } from '../../src/contracts/limits.js';
import { InProcessAdapter, MemoryArtifactStore, RuntimeAdapter } from '../../src/index.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { invocation, startTestRuntime, testRegistry, TOKEN, type TestRuntime } from '../helpers/runtime.js';
import { LIMITS_REGISTRY } from './registry.js';

const hex = (n: number) => n.toString(16).padStart(64, '0');
const ref = (i: number, size: number) => ({ $artifact: `attachments/sha256/${hex(i)}`, cid: `sha256:${hex(i)}`, mime: 'application/octet-stream', size_bytes: size });

/** Sizes and counts just under, at and just over a limit. */
const around = (limit: number) => fc.integer({ min: Math.max(0, limit - 3), max: limit + 3 });

describe('limits: the same answer in-process and over the protocol', () => {
  let rt: TestRuntime;
  before(async () => {
    rt = await startTestRuntime();
  });
  after(async () => {
    await rt.stop();
  });

  async function both(params: Record<string, unknown>, executionId: string): Promise<{ local: string; remote: string }> {
    const args = { ...invocation('testing/echo@1', params, { executionId }), adapterOpts: {} };
    const localStore = new MemoryArtifactStore();
    const local = await new InProcessAdapter({ store: localStore, registryDir: testRegistry(), env: {} }).invoke(args);
    const remoteAdapter = new RuntimeAdapter({ url: rt.url, token: TOKEN, store: rt.store });
    const remote = await remoteAdapter.invoke(args);
    remoteAdapter.close();
    if (local.status === 'error') {
      assert.deepEqual(localStore.keys(), [], 'nothing written for a refused run');
      assert.deepEqual(rt.store.keys().filter((k) => k.includes(executionId)), [], 'nothing written for a refused run');
    }
    return { local: canonicalJson(local), remote: canonicalJson(remote) };
  }

  it('attachment sizes around the per-attachment and per-run limits', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(around(LIMITS.attachmentBytes / 2), { minLength: 1, maxLength: 3 }), async (sizes) => {
        const id = `size-${n++}`;
        const params = { attachments: sizes.map((size, i) => ref(i, size)) };
        const { local, remote } = await both(params, id);
        const total = sizes.reduce((a, b) => a + b, 0);
        const envelope = JSON.parse(local) as { status: string; error?: { code: string; message: string } };
        if (total > LIMITS.totalAttachmentBytes) {
          assert.equal(envelope.error?.code, 'ERR_ATTACHMENT');
          assert.equal(remote, local);
        } else {
          // Within the limits the run goes on, and fails reading bytes no store holds.
          assert.doesNotMatch(envelope.error?.message ?? '', /the limit is/);
        }
      }),
      { numRuns: 25 },
    );
    assert.equal((await rt.client.health()).ok, true, 'the runtime serves on');
  });

  it('artifact reference and distinct attachment counts around their limits', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(around(LIMITS.attachmentRefs), fc.boolean(), async (count, distinct) => {
        const id = `count-${n++}`;
        const params = { attachments: Array.from({ length: count }, (_, i) => ref(distinct ? i : 0, 1)) };
        const { local, remote } = await both(params, id);
        const envelope = JSON.parse(local) as { error?: { code: string; message: string } };
        const over = count > LIMITS.attachmentRefs || (distinct && count > LIMITS.attachments);
        if (count > LIMITS.attachmentRefs) assert.equal(envelope.error?.code, 'ERR_INPUT_TOO_LARGE');
        else if (over) assert.equal(envelope.error?.code, 'ERR_ATTACHMENT');
        else assert.doesNotMatch(envelope.error?.message ?? '', /the limit is/);
        if (over) assert.equal(remote, local, 'the same envelope bytes in both placements');
      }),
      { numRuns: 12 },
    );
    assert.equal((await rt.client.health()).ok, true, 'the runtime serves on');
  });
});

describe('limits through the real bin, in-process and --placement process', { timeout: 300_000 }, () => {
  const run = (placement: string, args: string[]) => runCli(['run', '--ref', 'testing/spin@1', '--registry', LIMITS_REGISTRY, '--placement', placement, '--json', '--execution-id', 'limits-1', '--artifacts', tempDir(), ...args]);

  it('refuses 400k attachment placeholders in a 7 MB input with ERR_INPUT_TOO_LARGE, the same bytes everywhere', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.txt'), 'a');
    const inputs = join(dir, 'inputs.json');
    writeFileSync(inputs, JSON.stringify({ schema: 'v1', params: { attachments: Array.from({ length: 400_000 }, () => ({ $attach: 'a' })) } }));
    const args = ['--inputs-file', inputs, '--attach', `a=${join(dir, 'a.txt')}`];
    const local = await run('in-process', args);
    const remote = await run('process', args);
    assert.equal(local.code, 3, local.stderr);
    assert.equal((JSON.parse(local.stdout) as { error: { code: string } }).error.code, 'ERR_INPUT_TOO_LARGE');
    assert.equal(remote.stdout, local.stdout);
  });

  it('refuses a 500 MB attachment with ERR_ATTACHMENT before reading it, the same bytes everywhere', async () => {
    const dir = tempDir();
    const file = join(dir, 'big.bin');
    const fd = openSync(file, 'w');
    ftruncateSync(fd, 500 * 1000 * 1000); // sparse: nothing is written, and nothing must be read
    closeSync(fd);
    const args = ['--inputs-json', JSON.stringify({ schema: 'v1', params: { attachments: [{ $attach: 'big' }] } }), '--attach', `big=${file}`];
    const local = await run('in-process', args);
    const remote = await run('process', args);
    assert.equal(local.code, 3, local.stderr);
    const envelope = JSON.parse(local.stdout) as { error: { code: string; message: string } };
    assert.equal(envelope.error.code, 'ERR_ATTACHMENT');
    assert.equal(envelope.error.message, `attachment big is 500000000 bytes; the limit is ${LIMITS.attachmentBytes} bytes per attachment`);
    assert.equal(remote.stdout, local.stdout);
  });
});
