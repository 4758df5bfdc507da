// Running the command: argv and shell forms, cwd, env, stdin, and how each way of ending maps to
// status and exit code.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { eventually, payload, processExists, runExecutor, runPayload, tempDir } from './helpers.js';

describe('running commands (real bin)', () => {
  it('runs an argv command: exit 0 is success', async () => {
    const run = await runPayload(payload({ command: ['printf', '%s|%s', 'a b', 'c'] }));
    assert.equal(run.code, 0);
    assert.equal(run.result.status, 'success');
    assert.equal(run.result.exit_code, 0);
    assert.equal(run.result.stdout, 'a b|c');
    assert.equal(run.result.error, null);
  });

  it('does not interpret shell syntax in an argv command', async () => {
    const run = await runPayload(payload({ command: ['echo', '$HOME', '&&', 'false'] }));
    assert.equal(run.result.stdout, '$HOME && false\n');
  });

  it('runs shell_command through bash', async () => {
    const run = await runPayload(payload({ shell_command: 'x=(1 2 3); echo "${#x[@]} $BASH_VERSION" | cut -c1' }));
    assert.equal(run.result.status, 'success');
    assert.equal(run.result.stdout, '3\n');
    assert.equal(run.result.provider_metadata.command_kind, 'shell_command');
  });

  it('reports a non-zero exit as failed, with the code in the error details', async () => {
    const run = await runPayload(payload({ shell_command: 'echo out; echo err >&2; exit 42' }));
    assert.equal(run.code, 42);
    assert.equal(run.result.status, 'failed');
    assert.equal(run.result.exit_code, 42);
    assert.equal(run.result.error?.code, 'nonzero_exit');
    assert.equal(run.result.error?.details?.exit_code, 42);
    assert.equal(run.result.stdout, 'out\n');
    assert.equal(run.result.stderr, 'err\n');
  });

  it('reports a command killed by a signal as failed with 128+n', async () => {
    const run = await runPayload(payload({ shell_command: 'kill -USR1 $$' }));
    assert.equal(run.result.status, 'failed');
    assert.equal(run.result.exit_code, 138);
    assert.equal(run.code, 138);
    assert.equal(run.result.error?.code, 'killed_by_signal');
    assert.equal(run.result.error?.details?.signal, 'SIGUSR1');
  });

  it('reports a missing program as failed 127, like a shell', async () => {
    const run = await runPayload(payload({ command: ['definitely-not-a-program-xyz'] }));
    assert.equal(run.result.status, 'failed');
    assert.equal(run.result.exit_code, 127);
    assert.equal(run.result.error?.code, 'command_not_found');
    assert.equal(run.lines.length, 1, 'no start markers for a command that never started');
  });

  it('reports a non-executable program as failed 126', async () => {
    const dir = tempDir();
    const script = join(dir, 'not-exec.sh');
    writeFileSync(script, '#!/bin/sh\necho hi\n');
    chmodSync(script, 0o644);
    const run = await runPayload(payload({ command: [script] }));
    assert.equal(run.result.status, 'failed');
    assert.equal(run.result.exit_code, 126);
    assert.equal(run.result.error?.code, 'command_not_executable');
  });

  it('runs in cwd, creating it when missing', async () => {
    const dir = join(tempDir(), 'deep', 'er');
    const run = await runPayload(payload({ command: ['pwd'], cwd: dir }));
    assert.equal(run.result.status, 'success');
    assert.equal(run.result.stdout, `${realpathSync(dir)}\n`);
    assert.ok(existsSync(dir));
  });

  it('defaults cwd to LLMCTL_EXECUTOR_DEFAULT_CWD when set', async () => {
    const dir = join(tempDir(), 'default-cwd');
    const run = await runPayload(payload({ command: ['pwd'] }), { env: { LLMCTL_EXECUTOR_DEFAULT_CWD: dir } });
    assert.equal(run.result.stdout, `${realpathSync(dir)}\n`);
  });

  it('defaults cwd to /tmp/llmctl-workspace', async () => {
    const run = await runPayload(payload({ command: ['pwd'] }));
    assert.equal(run.result.stdout, '/tmp/llmctl-workspace\n');
  });

  it('reports a cwd that cannot be created as infra_error 3', async () => {
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, 'x');
    const run = await runPayload(payload({ command: ['true'], cwd: join(file, 'sub') }));
    assert.equal(run.code, 3);
    assert.equal(run.result.status, 'infra_error');
    assert.equal(run.result.error?.code, 'cwd_unavailable');
  });

  it('merges env over the executor environment', async () => {
    const run = await runPayload(payload({ shell_command: 'echo "$KEEP|$OVER|$NEW"', env: { OVER: 'payload', NEW: 'n' } }), {
      env: { KEEP: 'kept', OVER: 'executor' },
    });
    assert.equal(run.result.stdout, 'kept|payload|n\n');
  });

  it('does not pass the executor input variables on to the command', async () => {
    const json = JSON.stringify(payload({ shell_command: 'echo "[${LLMCTL_EXECUTOR_PAYLOAD_JSON:-unset}]"' }));
    const run = await runExecutor([], { env: { LLMCTL_EXECUTOR_PAYLOAD_JSON: json } });
    assert.equal(run.result.stdout, '[unset]\n');
  });

  it('feeds stdin text to the command and closes it', async () => {
    const run = await runPayload(payload({ command: ['wc', '-l'], stdin: 'one\ntwo\nthree\n' }));
    assert.equal(run.result.stdout.trim(), '3');
  });

  it('gives the command an empty stdin when the payload has none', async () => {
    // `cat` would block forever on an inherited open stdin.
    const run = await runPayload(payload({ command: ['cat'] }), { input: '' });
    assert.equal(run.result.status, 'success');
    assert.equal(run.result.stdout, '');
  });

  it('tolerates a command that exits without reading a large stdin', async () => {
    // Too big for a command-line argument: passed as a file.
    const file = join(tempDir(), 'big.json');
    writeFileSync(file, JSON.stringify(payload({ command: ['true'], stdin: 'x'.repeat(4 * 1024 * 1024) })));
    const run = await runExecutor(['--payload-file', file]);
    assert.equal(run.result.status, 'success');
  });

  it('runs the command in its own process group', async () => {
    const run = await runPayload(payload({ shell_command: 'ps -o pgid= -p $$; echo $$' }));
    const [pgid, pid] = run.result.stdout.trim().split(/\s+/);
    assert.equal(pgid, pid);
    assert.equal(Number(pid), run.result.provider_metadata.pid);
  });

  it('stops background processes left in the group after the command exits', async () => {
    const pidFile = join(tempDir(), 'bg.pid');
    const run = await runPayload(payload({ shell_command: `sleep 300 >/dev/null 2>&1 & echo $! > ${pidFile}; echo done` }));
    assert.equal(run.result.status, 'success');
    assert.ok(run.result.warnings?.some((w) => w.includes('left running')));
    const bg = Number(readFileSync(pidFile, 'utf8'));
    await eventually(() => !processExists(bg), `background sleep ${bg} to be gone`);
  });
});
