/**
 * timeout_s holds in a real started container for a handler that never yields: `localctl run` of an
 * endless synchronous loop ends as ERR_TIMEOUT within its limit plus a small grace, and the same
 * container keeps serving (a next run succeeds, /healthz answers ok, the container id is unchanged).
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildAndPin, engine, Registry } from '../../src/index.js';
import { runtimeHealth } from '../../src/protocol/health.js';
import { cleanEnv, runCli, tempDir } from '../helpers/cli.js';
import { dockerAnswers, needDocker } from '../helpers/docker.js';
import { LOCALCTL_BIN } from '../helpers/paths.js';
import { LIMITS_REGISTRY } from './registry.js';

// A ref (and so a started-container name and image repository) of this file's own: the Docker
// engine is shared, and stop-grace.test.ts starts and stops testing/spin@1.
const REF = 'testing/spin-timeout@1';
const SLUG = 'testing-spin-timeout-v1';
const CONTAINER = `procctl-${SLUG}-mock`;
const TIMEOUT_S = 2;
/** Slack over timeout_s for the worker's termination, the frame round trip and a CLI start on a busy machine. */
const GRACE_MS = 8_000;

const localctl = (args: string[]) => runCli(args, { bin: LOCALCTL_BIN, env: cleanEnv() });

describe('timeout_s of a never-yielding handler in a started container (localctl run)', { timeout: 280_000 }, () => {
  let dir = '';
  before(async () => {
    if (!(await dockerAnswers())) return;
    dir = tempDir('procctl-spin-timeout-reg-');
    cpSync(join(LIMITS_REGISTRY, 'testing-spin-v1'), join(dir, SLUG), { recursive: true });
    const yaml = join(dir, SLUG, 'registry.yaml');
    writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('ref: testing/spin@1', `ref: ${REF}`).replace('procctl/testing-spin', 'procctl/testing-spin-timeout').replace('timeout_s: 1', `timeout_s: ${TIMEOUT_S}`));
    await buildAndPin(new Registry(dir), REF);
    const start = await localctl(['start', '--ref', REF, '--registry', dir]);
    assert.equal(start.code, 0, start.stderr);
  });
  after(async () => {
    if (dir) await localctl(['stop', '--ref', REF, '--registry', dir, '--grace', '0']);
  });

  const run = (params: Record<string, unknown>, id: string) =>
    localctl(['run', '--ref', REF, '--registry', dir, '--execution-id', id, '--json', '--artifacts', tempDir(), '--inputs-json', JSON.stringify({ schema: 'v1', params })]);

  async function endpoint(): Promise<string> {
    const rows = JSON.parse((await localctl(['status', '--json'])).stdout) as { name: string; endpoint: string }[];
    const row = rows.find((r) => r.name === CONTAINER);
    assert.ok(row, `${CONTAINER} is listed by localctl status`);
    return row.endpoint;
  }

  it('ends an endless synchronous loop as ERR_TIMEOUT within timeout_s plus a grace, and the container keeps serving', async (t) => {
    if (!(await needDocker(t))) return;
    const before = await engine().getContainer(CONTAINER).inspect();
    assert.equal(before.State.Running, true);

    const started = performance.now();
    const spun = await run({ forever: true, log: 'spinning' }, 'spin-timeout-1');
    const elapsedMs = performance.now() - started;
    assert.equal(spun.code, 8, spun.stdout + spun.stderr);
    const envelope = JSON.parse(spun.stdout) as { status: string; error: { code: string; message: string; details: unknown } };
    assert.equal(envelope.status, 'error');
    assert.equal(envelope.error.code, 'ERR_TIMEOUT', spun.stdout);
    assert.equal(envelope.error.message, `${REF} ran longer than its limit of ${TIMEOUT_S}s`);
    assert.deepEqual(envelope.error.details, { timeout_s: TIMEOUT_S });
    // A bound, not a benchmark: without enforcement the run hangs (or ends ~40 s later as
    // ERR_RUNTIME_UNAVAILABLE), far past this.
    assert.ok(elapsedMs < TIMEOUT_S * 1000 + GRACE_MS, `ERR_TIMEOUT came after ${Math.round(elapsedMs)} ms`);

    const next = await run({ output: 'still here' }, 'spin-timeout-2');
    assert.equal(next.code, 0, next.stdout + next.stderr);
    assert.equal((JSON.parse(next.stdout) as { status: string }).status, 'success');

    const health = await runtimeHealth(await endpoint());
    assert.equal(health.ok, true, JSON.stringify(health));
    const afterwards = await engine().getContainer(CONTAINER).inspect();
    assert.equal(afterwards.Id, before.Id, 'the same container serves');
    assert.equal(afterwards.State.Running, true);
    assert.equal(afterwards.RestartCount, before.RestartCount, 'it was not restarted');
  });

  it('times out a second endless loop too: the stopped worker left nothing behind that blocks the next', async (t) => {
    if (!(await needDocker(t))) return;
    const again = await run({ forever: true }, 'spin-timeout-3');
    assert.equal((JSON.parse(again.stdout) as { error: { code: string } }).error.code, 'ERR_TIMEOUT', again.stdout);
    const ok = await run({ spin_ms: 100, output: 'fine' }, 'spin-timeout-4');
    assert.equal((JSON.parse(ok.stdout) as { status: string }).status, 'success', ok.stdout);
  });
});
