/**
 * `localctl stop --grace N` governs the runtime's drain in a real container: a run that needs
 * longer than the runtime's own default drain (5 s) but less than the grace finishes with success;
 * one that outlasts the grace is cancelled near its end, with an ERR_CANCELLED result.
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildAndPin, Registry } from '../../src/index.js';
import { cleanEnv, runCli, tempDir } from '../helpers/cli.js';
import { dockerAnswers, needDocker } from '../helpers/docker.js';
import { LOCALCTL_BIN } from '../helpers/paths.js';
import { LIMITS_REGISTRY } from './registry.js';

const localctl = (args: string[]) => runCli(args, { bin: LOCALCTL_BIN, env: cleanEnv() });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('localctl stop --grace governs the drain (real container)', { timeout: 600_000 }, () => {
  let dir = '';
  before(async () => {
    if (!(await dockerAnswers())) return;
    // The spin processor with a limit long enough for runs that outlast the default drain.
    dir = tempDir('procctl-stop-grace-reg-');
    cpSync(join(LIMITS_REGISTRY, 'testing-spin-v1'), join(dir, 'testing-spin-v1'), { recursive: true });
    const yaml = join(dir, 'testing-spin-v1', 'registry.yaml');
    writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('timeout_s: 1', 'timeout_s: 120'));
    await buildAndPin(new Registry(dir), 'testing/spin@1');
  });
  after(async () => {
    if (dir) await localctl(['stop', '--ref', 'testing/spin@1', '--registry', dir, '--grace', '0']);
  });

  const run = (sleepMs: number, id: string) =>
    localctl(['run', '--ref', 'testing/spin@1', '--registry', dir, '--execution-id', id, '--json', '--artifacts', tempDir(), '--inputs-json', JSON.stringify({ schema: 'v1', params: { sleep_ms: sleepMs, output: 'slept' } })]);

  async function stopDuring(sleepMs: number, grace: number, id: string) {
    const start = await localctl(['start', '--ref', 'testing/spin@1', '--registry', dir]);
    assert.equal(start.code, 0, start.stderr);
    const running = run(sleepMs, id);
    await sleep(1_500); // the run is in flight
    const stop = await localctl(['stop', '--ref', 'testing/spin@1', '--registry', dir, '--grace', String(grace)]);
    assert.equal(stop.code, 0, stop.stderr);
    return running;
  }

  it('lets a run longer than the default 5 s drain finish within --grace 20', async (t) => {
    if (!(await needDocker(t))) return;
    const result = await stopDuring(9_000, 20, 'grace-finish-1');
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.equal((JSON.parse(result.stdout) as { status: string }).status, 'success');
  });

  it('cancels a run that outlasts --grace 4, with its ERR_CANCELLED result', async (t) => {
    if (!(await needDocker(t))) return;
    const result = await stopDuring(60_000, 4, 'grace-cancel-1');
    const envelope = JSON.parse(result.stdout) as { error: { code: string; message: string } };
    assert.equal(envelope.error.code, 'ERR_CANCELLED', result.stdout);
    assert.equal(envelope.error.message, 'execution grace-cancel-1 was cancelled: the processor runtime is shutting down');
  });
});
