// How runs end: timeout (the whole process group, grandchildren and SIGTERM-ignorers included),
// and cancellation of the executor by SIGTERM/SIGINT.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { STARTED_MARKER } from '../../src/executor/contract.js';
import { eventually, payload, processExists, runPayload, tempDir } from './helpers.js';

const GRACE = { LLMCTL_EXECUTOR_KILL_GRACE_SECONDS: '1' };

function pidsIn(file: string): number[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split(/\s+/)
    .map(Number);
}

describe('timeouts (real bin)', () => {
  it('stops a command that outlives timeout_seconds: status timeout, exit 124', async () => {
    const run = await runPayload(payload({ shell_command: 'echo before; sleep 300', timeout_seconds: 1 }), { env: GRACE });
    assert.equal(run.code, 124);
    assert.equal(run.result.status, 'timeout');
    assert.equal(run.result.exit_code, 124);
    assert.equal(run.result.error?.code, 'timeout');
    assert.equal(run.result.stdout, 'before\n', 'output up to the timeout is kept');
    assert.equal(run.result.error?.details?.escalated_to_sigkill, false);
  });

  it('kills grandchildren left running at timeout', async () => {
    const file = join(tempDir(), 'pids');
    // child bash → inner bash → sleep; the inner ones are grandchildren of the executor.
    const script = `bash -c 'sleep 300 & echo $! >> ${file}; wait' & echo $! >> ${file}; wait`;
    const run = await runPayload(payload({ shell_command: script, timeout_seconds: 1 }), { env: GRACE });
    assert.equal(run.result.status, 'timeout');
    const pids = pidsIn(file);
    assert.equal(pids.length, 2);
    for (const pid of pids) await eventually(() => !processExists(pid), `descendant ${pid} to die`);
  });

  it('escalates to SIGKILL for a command that ignores SIGTERM, grandchild included', async () => {
    const file = join(tempDir(), 'pids');
    const script = `trap '' TERM; bash -c "trap '' TERM; sleep 300" & echo $! > ${file}; sleep 300`;
    const run = await runPayload(payload({ shell_command: script, timeout_seconds: 1 }), { env: GRACE });
    assert.equal(run.result.status, 'timeout');
    assert.equal(run.result.exit_code, 124);
    assert.equal(run.result.error?.details?.escalated_to_sigkill, true);
    for (const pid of pidsIn(file)) await eventually(() => !processExists(pid), `TERM-ignoring grandchild ${pid} to die`);
  });
});

describe('cancellation (real bin)', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} to the executor stops the group: status cancelled, exit 130`, async () => {
      const file = join(tempDir(), 'pids');
      const run = await runPayload(payload({ shell_command: `sleep 300 & echo $! > ${file}; wait`, timeout_seconds: 600 }), {
        env: GRACE,
        onLine: (line, child) => {
          // Signal once the command is certainly running.
          if (line === STARTED_MARKER) setTimeout(() => child.kill(signal), 200);
        },
      });
      assert.equal(run.code, 130);
      assert.equal(run.signal, null, 'the executor exits by itself, it is not killed');
      assert.equal(run.result.status, 'cancelled');
      assert.equal(run.result.exit_code, 130);
      assert.equal(run.result.error?.code, 'cancelled');
      for (const pid of pidsIn(file)) await eventually(() => !processExists(pid), `background ${pid} to die`);
    });
  }

  it('cancels a command that ignores SIGTERM by escalating', async () => {
    const run = await runPayload(payload({ shell_command: "trap '' TERM; sleep 300", timeout_seconds: 600 }), {
      env: GRACE,
      onLine: (line, child) => {
        if (line === STARTED_MARKER) setTimeout(() => child.kill('SIGTERM'), 200);
      },
    });
    assert.equal(run.result.status, 'cancelled');
    assert.equal(run.result.error?.details?.escalated_to_sigkill, true);
  });
});
