/**
 * Issue 9 §1 against a real started container: generated hostile inputs give the container the
 * same envelope bytes as the in-process placement (refused runs write nothing), and generated
 * frames sent straight to the container's runtime get the same answer as a `procctl-runtime`
 * process — after every one of them the container still runs and serves.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { buildAndPin, findStarted, logTail, Registry, startRuntimeProcess, type RuntimeProcess } from '../../src/index.js';
import { invokeFrameText } from '../../src/protocol/invoke-frame.js';
import { cleanEnv, runCli, tempDir } from '../helpers/cli.js';
import { dockerAnswers, needDocker } from '../helpers/docker.js';
import { envelopeOf } from '../helpers/envelope.js';
import { breaksOf, doc, ECHO_DOC_DEPTH, echoInputsText, frameOutcome, hostileFrames, isFine, stillServes } from '../helpers/hostile.js';
import { FIXTURE_REGISTRY, LOCALCTL_BIN } from '../helpers/paths.js';

const REF = 'testing/hostile@1';

describe('hostile inputs and frames against a started container (property-based)', { concurrency: false }, () => {
  let registry: string;
  let runtime: RuntimeProcess | undefined;
  const env = () => cleanEnv({ PROCCTL_REGISTRY: registry });
  const localctl = (args: string[], input?: string) => runCli(args, { bin: LOCALCTL_BIN, env: env(), ...(input !== undefined && { input }) });
  const container = async () => {
    const handle = await findStarted(new Registry(registry).snapshot(REF), 'mock');
    assert.ok(handle, 'the started container is still there (not removed)');
    assert.ok(handle.running, `the started container still runs (exit ${handle.exitCode}, OOM ${handle.oomKilled}): ${await logTail(handle.id)}`);
    return handle;
  };

  before(async () => {
    if (!(await dockerAnswers())) return;
    // The echo processor under a name of its own, so no other test's `localctl stop --ref
    // testing/echo@1` on this shared engine stops this container mid-property.
    registry = tempDir('procctl-hostile-reg-');
    mkdirSync(join(registry, 'testing-hostile-v1'));
    cpSync(join(FIXTURE_REGISTRY, 'testing-echo-v1', 'handler.js'), join(registry, 'testing-hostile-v1', 'handler.js'));
    writeFileSync(join(registry, 'testing-hostile-v1', 'registry.yaml'), readFileSync(join(FIXTURE_REGISTRY, 'testing-echo-v1', 'registry.yaml'), 'utf8').replace('ref: testing/echo@1', `ref: ${REF}`).replace('procctl/testing-echo', 'procctl/testing-hostile'));
    await buildAndPin(new Registry(registry), REF);
    await localctl(['stop', '--ref', REF, '--grace', '1']);
    const started = await localctl(['start', '--ref', REF]);
    assert.equal(started.code, 0, started.stderr);
    runtime = await startRuntimeProcess({ registryDir: registry, env: {} });
  });

  after(async () => {
    if (!(await dockerAnswers())) return;
    await runtime?.stop();
    await localctl(['stop', '--ref', REF, '--grace', '1']);
  });

  it('localctl run and procctl run in-process: same envelope bytes; a refused run writes nothing; the container keeps serving', async (t) => {
    if (!(await needDocker(t))) return;
    let n = 0;
    await fc.assert(
      fc.asyncProperty(doc, fc.string({ unit: 'binary', maxLength: 12 }), async (d, text) => {
        const inputs = echoInputsText(d, text);
        const fine = isFine(breaksOf(d, ECHO_DOC_DEPTH));
        const id = `hostile-c-${n++}`;
        const outputs: string[] = [];
        for (const [bin, extra] of [[LOCALCTL_BIN, []], [undefined, ['--placement', 'in-process']]] as const) {
          const artifacts = join(tempDir(), 'store');
          const args = ['run', '--ref', REF, ...extra, '--execution-id', id, '--artifacts', artifacts, '--inputs', '-', '--json', '--quiet'];
          const result = await runCli(args, { env: env(), input: inputs, ...(bin && { bin }) });
          const envelope = envelopeOf(result);
          if (fine) {
            assert.equal(envelope.status, 'success', result.stdout + result.stderr);
            assert.equal(readFileSync(join(artifacts, 'executions', id, 'outputs', 'g.txt'), 'utf8'), text);
          } else {
            assert.equal(result.code, 3, result.stdout);
            assert.equal(existsSync(artifacts), false, 'a refused run leaves no store behind');
          }
          outputs.push(result.stdout);
        }
        assert.equal(outputs[0], outputs[1], 'container and in-process envelopes are byte-identical');
      }),
      { numRuns: 10 },
    );
    await container();
  });

  it('generated frames: the container answers as a procctl-runtime process does, and still serves after each', async (t) => {
    if (!(await needDocker(t))) return;
    const snapshot = new Registry(registry).snapshot(REF);
    const good = invokeFrameText({ processorRef: REF, inputsJson: { schema: 'v1', mode: 'mock', params: { outputs: [{ path: 'a.txt', text: 'ok' }] } }, writePrefix: 'executions/{execution_id}/', executionId: 'good-c', registrySnapshot: snapshot, secretsPresent: [] }, []);
    const local = runtime as RuntimeProcess;
    const first = (await container()).id;
    await fc.assert(
      fc.asyncProperty(hostileFrames(good), async ({ frame }) => {
        const handle = await container();
        const inContainer = await frameOutcome(handle.endpoint, handle.token, frame);
        const inProcess = await frameOutcome(local.url, local.token, frame);
        assert.deepEqual(inContainer, inProcess, 'the same answer from the container and from a runtime process');
        await stillServes(handle.endpoint, handle.token, good);
      }),
      { numRuns: 40 },
    );
    assert.equal((await container()).id, first, 'the same container served every frame (never replaced)');
  });
});
