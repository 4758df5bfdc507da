/**
 * Issue 9 §1 through the real bins: generated hostile JSON fed in-process and over
 * `--placement process` gives the same typed result (the same envelope bytes), a refused run
 * writes nothing, and generated frames never take down a `procctl-runtime` process.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { canonicalContentId, canonicalJson, ChildProcessAdapter, InProcessAdapter, MemoryArtifactStore, Registry, run, startRuntimeProcess, type Adapter, type InputsV1, type RuntimeProcess } from '../src/index.js';
import { invokeFrameText } from '../src/protocol/invoke-frame.js';
import { runCli, tempDir } from './helpers/cli.js';
import { envelopeOf } from './helpers/envelope.js';
import { breaksOf, doc, ECHO_DOC_DEPTH, echoInputsText, frameOutcome, hostileFrames, isFine, stillServes, textOf } from './helpers/hostile.js';
import { FIXTURE_REGISTRY } from './helpers/paths.js';
import { invocation } from './helpers/runtime.js';

const okText = fc.string({ unit: 'binary', maxLength: 12 });

describe('hostile inputs: the same typed result in every local placement (property-based, real bins)', () => {
  it('procctl run --json in-process and --placement process: same envelope bytes; refused runs write nothing', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(doc, okText, async (d, text) => {
        const inputs = echoInputsText(d, text);
        const fine = isFine(breaksOf(d, ECHO_DOC_DEPTH));
        const id = `hostile-${n++}`;
        const outcomes = [];
        for (const placement of ['in-process', 'process']) {
          const artifacts = join(tempDir(), 'store');
          const result = await runCli(['run', '--registry', FIXTURE_REGISTRY, '--ref', 'testing/echo@1', '--placement', placement, '--execution-id', id, '--artifacts', artifacts, '--inputs', '-', '--json', '--quiet'], { input: inputs });
          const envelope = envelopeOf(result);
          assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
          if (fine) {
            assert.equal(envelope.status, 'success', result.stdout);
            assert.equal(readFileSync(join(artifacts, 'executions', id, 'outputs', 'g.txt'), 'utf8'), text);
          } else {
            assert.equal(result.code, 3, result.stdout);
            assert.ok(envelope.status === 'error' && /^ERR_INPUT_(INVALID|ENCODING)$/.test(envelope.error.code), result.stdout);
            assert.equal(existsSync(artifacts), false, 'a refused run leaves no store behind');
          }
          outcomes.push(result.stdout);
        }
        assert.equal(outcomes[0], outcomes[1], 'in-process and process envelopes are byte-identical');
      }),
      { numRuns: 12 },
    );
  });

  it('run() with a library caller\'s objects: checked up front, same envelope in-process and over the protocol, nothing stored', async () => {
    const registry = new Registry(FIXTURE_REGISTRY);
    let n = 0;
    await fc.assert(
      fc.asyncProperty(doc, async (d) => {
        if (breaksOf(d).duplicate) return; // an object cannot repeat a name
        // JSON.parse keeps Infinity, lone surrogates and any depth: a caller's object can too.
        const x = JSON.parse(textOf(d)) as unknown;
        const inputs = { schema: 'v1', params: { outputs: [{ path: 'g.txt', text: 't', x }] } } as InputsV1;
        const fine = isFine(breaksOf(d, ECHO_DOC_DEPTH));
        const id = `lib-${n++}`;
        const envelopes: string[] = [];
        const adapters: [MemoryArtifactStore, (store: MemoryArtifactStore) => Adapter][] = [
          [new MemoryArtifactStore(), (store) => new InProcessAdapter({ store, registryDir: registry.dir })],
          [new MemoryArtifactStore(), (store) => new ChildProcessAdapter({ store, registryDir: registry.dir })],
        ];
        for (const [store, make] of adapters) {
          const { envelope } = await run({ ref: 'testing/echo@1', inputs, executionId: id, store, registry, adapter: make(store), env: {} });
          if (!fine) {
            assert.ok(envelope.status === 'error' && /^ERR_INPUT_(INVALID|ENCODING)$/.test(envelope.error.code), canonicalJson(envelope));
            assert.deepEqual(store.keys(), [], 'nothing stored for a refused run');
          } else assert.equal(envelope.status, 'success', canonicalJson(envelope));
          envelopes.push(canonicalJson(envelope));
        }
        assert.equal(envelopes[0], envelopes[1]);
      }),
      { numRuns: 8 },
    );
  });
});

describe('hostile frames: a procctl-runtime process survives every one (property-based)', () => {
  let runtime: RuntimeProcess;
  let good: string;

  before(async () => {
    runtime = await startRuntimeProcess({ registryDir: FIXTURE_REGISTRY, env: {} });
    good = invokeFrameText(invocation('testing/echo@1', { outputs: [{ path: 'a.txt', text: 'ok' }] }, { executionId: 'good-1' }), []);
  });
  after(async () => {
    await runtime?.stop();
  });

  it('answers each generated frame with the run\'s typed error (the in-process envelope) or a protocol close, and keeps serving', async () => {
    const store = new MemoryArtifactStore();
    const inProcess = new InProcessAdapter({ store, registryDir: FIXTURE_REGISTRY, env: {} });
    await fc.assert(
      fc.asyncProperty(hostileFrames(good), async ({ frame, doc: d }) => {
        const outcome = await frameOutcome(runtime.url, runtime.token, frame);
        if ('close' in outcome) assert.ok(outcome.close >= 4000 || outcome.close === 1007 || outcome.close === 1009, `a protocol close code: ${outcome.close}`);
        else {
          const envelope = JSON.parse(outcome.result) as { status: string; error?: { code: string } };
          if (d && !isFine(breaksOf(d, ECHO_DOC_DEPTH))) assert.match(envelope.error?.code ?? '', /^ERR_INPUT_(INVALID|ENCODING)$/, outcome.result);
          if (d && !breaksOf(d).duplicate) {
            // The same inputs as an object, in-process: the same bytes.
            const text = (frame as string).slice((frame as string).indexOf('"inputs":') + 9, (frame as string).indexOf(',"write_prefix"'));
            const args = invocation('testing/echo@1', {}, { executionId: 'good-1' });
            const mine = await inProcess.invoke({ ...args, registrySnapshot: new Registry(FIXTURE_REGISTRY).snapshot('testing/echo@1'), inputsJson: JSON.parse(text) as InputsV1, adapterOpts: {} });
            if (envelope.status === 'error') assert.equal(outcome.result, canonicalJson(mine));
          }
        }
        assert.equal(runtime.child.exitCode, null, `the runtime is alive:\n${runtime.stderr()}`);
        await stillServes(runtime.url, runtime.token, good);
      }),
      { numRuns: 60 },
    );
    assert.doesNotMatch(runtime.stderr(), /\n\s+at /, 'no stack trace from the runtime');
  });


  it('a snapshot whose inputs_schema has a remote $ref is the run\'s ERR_REGISTRY_INVALID, and the runtime serves on', async () => {
    const args = invocation('testing/echo@1', {}, { executionId: 'remote-ref' });
    const entry = { ...args.registrySnapshot.entry, inputs_schema: { type: 'object', properties: { a: { $ref: 'https://schemas.example/a.json' } } } };
    const frame = invokeFrameText({ ...args, registrySnapshot: { ...args.registrySnapshot, entry, entry_cid: canonicalContentId(entry) } }, []);
    const outcome = await frameOutcome(runtime.url, runtime.token, frame);
    assert.ok('result' in outcome, JSON.stringify(outcome));
    const envelope = JSON.parse(outcome.result) as { error: { code: string; message: string } };
    assert.equal(envelope.error.code, 'ERR_REGISTRY_INVALID');
    assert.match(envelope.error.message, /inputs_schema does not compile/);
    await stillServes(runtime.url, runtime.token, good);
  });
});

describe('a handler failure outside its run never ends a procctl-runtime process', () => {
  it('a throw from a handler\'s timer and an unhandled rejection are logged; the runtime keeps serving', async () => {
    const registry = tempDir('procctl-stray-registry-');
    cpSync(join(FIXTURE_REGISTRY, 'testing-echo-v1'), join(registry, 'testing-echo-v1'), { recursive: true });
    mkdirSync(join(registry, 'testing-stray-v1'));
    writeFileSync(join(registry, 'testing-stray-v1', 'registry.yaml'), readFileSync(join(FIXTURE_REGISTRY, 'testing-echo-v1', 'registry.yaml'), 'utf8').replace('ref: testing/echo@1', 'ref: testing/stray@1'));
    writeFileSync(
      join(registry, 'testing-stray-v1', 'handler.js'),
      "const stray = async (ctx) => { setTimeout(() => { throw new Error('stray timer'); }, 1); void Promise.reject(new Error('stray promise')); ctx.output('a.txt', 'ran'); };\nexport default { mock: stray, real: stray };\n",
    );
    const runtime = await startRuntimeProcess({ registryDir: registry, env: {} });
    try {
      const snapshotOf = (ref: string) => new Registry(registry).snapshot(ref);
      const frameFor = (ref: string, id: string) => invokeFrameText({ ...invocation('testing/echo@1', {}, { executionId: id }), processorRef: ref, registrySnapshot: snapshotOf(ref) }, []);
      for (let i = 0; i < 3; i++) {
        const outcome = await frameOutcome(runtime.url, runtime.token, frameFor('testing/stray@1', `stray-${i}`));
        assert.ok('result' in outcome && outcome.result.includes('"status":"success"'), JSON.stringify(outcome));
        await new Promise((resolve) => setTimeout(resolve, 20));
        await stillServes(runtime.url, runtime.token, frameFor('testing/echo@1', `after-${i}`));
      }
      assert.equal(runtime.child.exitCode, null);
      assert.match(runtime.stderr(), /uncaught exception, kept serving: stray timer/);
      assert.match(runtime.stderr(), /unhandled rejection, kept serving: stray promise/);
    } finally {
      await runtime.stop();
    }
  });
});

describe('stored nothing: the CLI refuses before it opens the store', () => {
  it('a duplicate name or 1e999 in --inputs-json leaves the artifacts folder absent', async () => {
    for (const inputs of ['{"schema":"v2","schema":"v1","params":{}}', '{"schema":"v1","params":{"messages":[],"temperature":1e999}}']) {
      const artifacts = join(tempDir(), 'store');
      const result = await runCli(['run', '--ref', 'llm/litellm@1', '--artifacts', artifacts, '--inputs-json', inputs, '--json']);
      assert.equal(result.code, 3, result.stdout);
      assert.equal(existsSync(artifacts) && readdirSync(artifacts).length > 0, false);
    }
  });
});
