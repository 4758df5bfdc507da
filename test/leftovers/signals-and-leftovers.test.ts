/**
 * Signals at odd moments and `kill -9` of the real bins: waits on stdin or a FIFO end promptly as
 * ERR_CANCELLED / `cancelled`, paths that cannot hold a directory fail typed and bounded, and
 * nothing a killed CLI or executor started keeps running.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { cleanEnv, HELLO_INPUTS, runCli, tempDir, type CliResult } from '../helpers/cli.js';
import { errorOf } from '../helpers/envelope.js';
import { FIXTURE_REGISTRY, PROCCTL_BIN } from '../helpers/paths.js';

const EXECUTOR_BIN = fileURLToPath(new URL('../../src/cli/llmctl-executor.js', import.meta.url));
const RUNTIME_BIN = fileURLToPath(new URL('../../src/cli/procctl-runtime.js', import.meta.url));
const RESULT_PREFIX = 'LLMCTL_EXECUTOR_RESULT_JSON=';

/** Spawns a bin, keeps its stdin open, and collects output until it exits. */
function start(bin: string, args: string[], cwd = tempDir()): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [bin, ...args], { cwd, env: cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (c: Buffer) => out.push(c));
  child.stderr?.on('data', (c: Buffer) => err.push(c));
  child.stdin?.on('error', () => undefined);
  const done = once(child, 'close').then(([code]) => ({ code: code as number | null, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
  return { child, done };
}

/** Resolves with the result, or fails the test if the bin has not ended within `ms`. */
async function within(ms: number, done: Promise<CliResult>, child: ChildProcess): Promise<CliResult> {
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  const result = await done;
  clearTimeout(timer);
  assert.notEqual(result.code, null, `ended within ${ms} ms rather than being killed`);
  return result;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * Starts a bin that will wait on its input, signals it after `delayMs`, and returns how it ended.
 * Node catches SIGINT/SIGTERM from its first instant, so readiness cannot be read from /proc: a
 * bin that was signalled before it installed its own handlers dies of the signal itself, which
 * proves nothing, so that attempt is repeated with a longer delay. A bin that swallowed the signal
 * and kept waiting (the defect) is killed after 5 s and fails the assertion in `within`.
 */
async function signalWhileWaiting(launch: () => { child: ChildProcess; done: Promise<CliResult> }, signal: NodeJS.Signals): Promise<CliResult> {
  for (const delayMs of [500, 1500, 4000, 8000]) {
    const { child, done } = launch();
    await sleep(delayMs);
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    const result = await done;
    clearTimeout(timer);
    if (child.signalCode === 'SIGKILL') assert.fail(`the bin ignored ${signal} while waiting on its input`);
    if (child.signalCode === signal) continue; // signalled before it was listening: try later
    return result;
  }
  return assert.fail(`the bin never got far enough to wait on its input`);
}

async function gone(pid: number, ms: number): Promise<boolean> {
  for (let waited = 0; waited < ms; waited += 50) {
    if (!alive(pid)) return true;
    await sleep(50);
  }
  return !alive(pid);
}

describe('signals while waiting for inputs', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} while procctl run waits on an open stdin pipe ends it as ERR_CANCELLED`, async () => {
      const result = await signalWhileWaiting(() => {
        const started = start(PROCCTL_BIN, ['run', '--ref', 'llm/litellm@1', '--inputs', '-', '--json']);
        started.child.stdin?.write('{"schema":');
        return started;
      }, signal);
      errorOf(result, 'ERR_CANCELLED', 8);
    });
  }

  it('SIGTERM while procctl run waits for a FIFO writer ends it as ERR_CANCELLED', async () => {
    const dir = tempDir();
    const fifo = join(dir, 'inputs.fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const result = await signalWhileWaiting(() => start(PROCCTL_BIN, ['run', '--ref', 'llm/litellm@1', '--inputs-file', fifo, '--json'], dir), 'SIGTERM');
    const error = errorOf(result, 'ERR_CANCELLED', 8);
    assert.match(error.message, /waiting for inputs/);
  });

  it('SIGTERM while llmctl-executor reads a slow stdin prints its cancelled result line', async () => {
    const result = await signalWhileWaiting(() => {
      const started = start(EXECUTOR_BIN, []);
      started.child.stdin?.write('{"contract_version":"v1",');
      return started;
    }, 'SIGTERM');
    const lines = result.stdout.split('\n').filter((l) => l.startsWith(RESULT_PREFIX));
    assert.equal(lines.length, 1, result.stdout);
    assert.equal(JSON.parse((lines[0] as string).slice(RESULT_PREFIX.length)).status, 'cancelled');
    assert.equal(result.code, 130);
  });
});

describe('places that cannot hold a directory', () => {
  const run = (extra: string[]) => runCli(['run', '--ref', 'llm/litellm@1', '--inputs-json', HELLO_INPUTS, '--json', ...extra]);

  it('--artifacts /proc/self fails at once with ERR_ARTIFACT_STORE (no endless mkdir)', async () => {
    const error = errorOf(await run(['--artifacts', '/proc/self']), 'ERR_ARTIFACT_STORE', 6);
    assert.equal(error.retryable, false);
  });

  it("--artifacts '' is refused, not taken for the default store", async () => {
    const cwd = tempDir();
    errorOf(await runCli(['run', '--ref', 'llm/litellm@1', '--inputs-json', HELLO_INPUTS, '--json', '--artifacts', ''], { cwd }), 'ERR_USAGE', 2);
    assert.equal(spawnSync('ls', [join(cwd, '.procctl')]).status !== 0, true, 'nothing written to the default store');
  });

  it('an executor cwd under /proc, or one that is a file, is cwd_unavailable, truthfully worded', async () => {
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, 'x');
    for (const [cwd, pattern] of [
      ['/proc/self/work', /ENOENT/],
      [join(file, 'sub'), /is a file, not a directory/],
    ] as const) {
      const { child, done } = start(EXECUTOR_BIN, ['--payload-json', JSON.stringify({ contract_version: 'v1', provider: 'workspace', command: ['true'], cwd })]);
      const result = await within(10_000, done, child);
      const line = result.stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX)) as string;
      const parsed = JSON.parse(line.slice(RESULT_PREFIX.length)) as { status: string; error: { message: string } };
      assert.equal(parsed.status, 'infra_error');
      assert.match(parsed.error.message, pattern);
      assert.doesNotMatch(parsed.error.message, /EEXIST/);
    }
  });
});

describe('kill -9 leaves nothing running', () => {
  it("the executor's command group dies with a killed executor", async () => {
    const dir = tempDir();
    const pidFile = join(dir, 'pids');
    const { child, done } = start(EXECUTOR_BIN, ['--payload-json', JSON.stringify({ contract_version: 'v1', provider: 'workspace', shell_command: `sleep 300 & echo $! > ${pidFile}; sleep 300`, timeout_seconds: 600 })], dir);
    let grandchild = 0;
    for (let i = 0; i < 100 && !grandchild; i++) {
      await sleep(50);
      grandchild = Number(spawnSync('cat', [pidFile]).stdout.toString().trim()) || 0;
    }
    assert.ok(grandchild > 0 && alive(grandchild), 'the command started its background sleep');
    child.kill('SIGKILL');
    await done;
    assert.ok(await gone(grandchild, 20_000), 'the background process of the command is gone');
  });

  it('the --placement process runtime exits when its CLI is killed', async () => {
    const { child, done } = start(PROCCTL_BIN, ['run', '--ref', 'testing/echo@1', '--registry', FIXTURE_REGISTRY, '--placement', 'process', '--json', '--inputs-json', JSON.stringify({ schema: 'v1', params: { ignore_abort: true, sleep_ms: 60_000 } })]);
    let runtime = 0;
    for (let i = 0; i < 200 && !runtime; i++) {
      await sleep(50);
      runtime = Number(spawnSync('pgrep', ['-P', String(child.pid), '-f', 'procctl-runtime']).stdout.toString().trim().split('\n')[0]) || 0;
    }
    assert.ok(runtime > 0, 'the runtime child started');
    child.kill('SIGKILL');
    await done;
    assert.ok(await gone(runtime, 20_000), 'the orphaned runtime noticed and exited');
  });

  it('a runtime with PROCCTL_RUNTIME_IDLE_EXIT_MS (as one-off containers get) exits when no connection comes', async () => {
    const child = spawn(process.execPath, [RUNTIME_BIN], { env: cleanEnv({ PROCCTL_RUNTIME_TOKEN: 'x'.repeat(32), PROCCTL_RUNTIME_PORT: '0', PROCCTL_RUNTIME_IDLE_EXIT_MS: '400' }), stdio: ['ignore', 'pipe', 'pipe'] });
    const [code] = (await Promise.race([once(child, 'exit'), sleep(10_000).then(() => [undefined])])) as [number | undefined];
    if (code === undefined) child.kill('SIGKILL');
    assert.equal(code, 0, 'it exited on its own');
  });
});
