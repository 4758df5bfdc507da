/**
 * timeout_s holds for handlers that never yield, in every placement, through the real bins: an
 * endless synchronous loop and a CPU-bound handler past its limit both end as ERR_TIMEOUT (not a
 * hang, not ERR_RUNTIME_UNAVAILABLE, never success); a cancel still stops one; and what crosses
 * the thread boundary (logs, outputs, attachments) still arrives.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cleanEnv, runCli, signalWhen, tempDir } from '../helpers/cli.js';
import { LIMITS_REGISTRY } from './registry.js';

const inputs = (params: Record<string, unknown>) => JSON.stringify({ schema: 'v1', params });

function spinRun(placement: string, params: Record<string, unknown>, extra: string[] = []) {
  return ['run', '--ref', 'testing/spin@1', '--registry', LIMITS_REGISTRY, '--placement', placement, '--inputs-json', inputs(params), '--json', '--artifacts', tempDir(), ...extra];
}

for (const placement of ['in-process', 'process']) {
  describe(`timeout_s for handlers that never yield (--placement ${placement})`, { timeout: 120_000 }, () => {
    it('ends an endless synchronous loop with ERR_TIMEOUT and exits', async () => {
      const result = await runCli(spinRun(placement, { forever: true }));
      assert.equal(result.code, 8, result.stderr);
      const envelope = JSON.parse(result.stdout) as { status: string; error: { code: string; message: string; details: unknown } };
      assert.equal(envelope.error.code, 'ERR_TIMEOUT');
      assert.equal(envelope.error.message, 'testing/spin@1 ran longer than its limit of 1s');
      assert.deepEqual(envelope.error.details, { timeout_s: 1 });
    });

    it('never reports success for a CPU-bound handler past its limit', async () => {
      const result = await runCli(spinRun(placement, { spin_ms: 2500, output: 'too late' }));
      assert.equal(result.code, 8, result.stderr);
      assert.equal((JSON.parse(result.stdout) as { error: { code: string } }).error.code, 'ERR_TIMEOUT');
    });

    it('cancels an endless loop on SIGINT with ERR_CANCELLED', async () => {
      const signal = signalWhen('spinning now');
      const result = await runCli(spinRun(placement, { forever: true, log: 'spinning now' }, ['--execution-id', 'spin-cancel-1']), { onStderr: signal.onStderr });
      assert.ok(signal.sent, result.stderr);
      const envelope = JSON.parse(result.stdout) as { error: { code: string; message: string } };
      // The timeout may win on a very slow machine; a signal that arrived in time is a cancel.
      assert.ok(['ERR_CANCELLED', 'ERR_TIMEOUT'].includes(envelope.error.code), result.stdout);
      if (envelope.error.code === 'ERR_CANCELLED') assert.equal(envelope.error.message, 'execution spin-cancel-1 was cancelled');
      assert.equal(result.code, 8);
    });

    it('carries logs, outputs and attachment bytes across the thread boundary, byte for byte the same as in-process', async () => {
      const dir = tempDir();
      const file = join(dir, 'photo.bin');
      const bytes = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
      writeFileSync(file, bytes);
      const params = { log: 'hello from the worker', attachments: [{ $attach: 'photo' }], output: 'done' };
      const args = ['--attach', `photo=${file}`, '--execution-id', 'spin-ok-1'];
      const result = await runCli(spinRun(placement, params, args), { env: cleanEnv() });
      assert.equal(result.code, 0, result.stderr + result.stdout);
      assert.match(result.stderr, /hello from the worker/);
      const envelope = JSON.parse(result.stdout) as { outputs: { path: string; size_bytes: number }[] };
      assert.deepEqual(envelope.outputs.map((o) => [o.path, o.size_bytes]), [
        ['executions/spin-ok-1/outputs/attachments/0.bin', bytes.byteLength],
        ['executions/spin-ok-1/outputs/out.txt', 4],
      ]);
      const local = await runCli(spinRun('in-process', params, args));
      assert.equal(result.stdout, local.stdout, 'the same envelope bytes as in-process');
    });
  });
}
