// Payload sources and their priority, and the rule that stdin is only read when it delivers.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { openSync, writeFileSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EXECUTOR_BIN, cleanEnv, parseOutput, payload, runExecutor, tempDir } from './helpers.js';

const echoPayload = (word: string): string => JSON.stringify(payload({ command: ['echo', word] }));

describe('payload sources', () => {
  const dir = tempDir();
  const file = join(dir, 'payload.json');
  writeFileSync(file, echoPayload('from-file'));
  const envFile = join(dir, 'env-payload.json');
  writeFileSync(envFile, echoPayload('from-env-file'));
  const allEnv = { LLMCTL_EXECUTOR_PAYLOAD_FILE: envFile, LLMCTL_EXECUTOR_PAYLOAD_JSON: echoPayload('from-env-json') };

  it('--payload-file beats everything', async () => {
    const run = await runExecutor(['--payload-file', file, '--payload-json', echoPayload('from-json')], {
      env: allEnv,
      input: echoPayload('from-stdin'),
    });
    assert.equal(run.result.stdout, 'from-file\n');
    assert.equal(run.result.provider_metadata.payload_source, 'payload_file');
  });

  it('--payload-json beats the environment and stdin', async () => {
    const run = await runExecutor(['--payload-json', echoPayload('from-json')], { env: allEnv, input: echoPayload('from-stdin') });
    assert.equal(run.result.stdout, 'from-json\n');
  });

  it('LLMCTL_EXECUTOR_PAYLOAD_FILE beats LLMCTL_EXECUTOR_PAYLOAD_JSON and stdin', async () => {
    const run = await runExecutor([], { env: allEnv, input: echoPayload('from-stdin') });
    assert.equal(run.result.stdout, 'from-env-file\n');
  });

  it('LLMCTL_EXECUTOR_PAYLOAD_JSON beats stdin', async () => {
    const run = await runExecutor([], { env: { LLMCTL_EXECUTOR_PAYLOAD_JSON: echoPayload('from-env-json') }, input: echoPayload('from-stdin') });
    assert.equal(run.result.stdout, 'from-env-json\n');
  });

  it('reads a payload piped on stdin', async () => {
    const run = await runExecutor([], { input: echoPayload('from-stdin') });
    assert.equal(run.result.stdout, 'from-stdin\n');
    assert.equal(run.result.provider_metadata.payload_source, 'stdin');
  });

  it('reads a payload from a file given as stdin', async () => {
    const fd = openSync(file, 'r');
    try {
      const run = await runExecutor([], { stdio: [fd, 'pipe', 'pipe'] });
      assert.equal(run.result.stdout, 'from-file\n');
    } finally {
      closeSync(fd);
    }
  });

  it('reports a missing payload file as infra_error naming the path', async () => {
    const missing = join(dir, 'nope.json');
    const run = await runExecutor(['--payload-file', missing]);
    assert.equal(run.code, 2);
    assert.equal(run.result.status, 'infra_error');
    assert.equal(run.result.error?.code, 'payload_source');
    assert.ok(run.result.error?.message.includes(missing));
  });

  it('reports no source at all (stdin is /dev/null) without waiting', async () => {
    const run = await runExecutor([]);
    assert.equal(run.code, 2);
    assert.equal(run.result.status, 'infra_error');
    assert.match(run.result.error?.message ?? '', /no payload/);
  });

  it('does not hang on an open stdin pipe that never delivers anything', async () => {
    // The writer end stays open for the whole run and is never written to or closed.
    const child = spawn(process.execPath, [EXECUTOR_BIN], {
      env: cleanEnv({ LLMCTL_EXECUTOR_STDIN_WAIT_MS: '300' }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    assert.equal(child.stdin.writableEnded, false, 'the test kept stdin open');
    child.stdin.destroy();
    assert.equal(code, 2);
    const { result } = parseOutput(stdout);
    assert.equal(result.status, 'infra_error');
    assert.match(result.error?.message ?? '', /stdin delivered nothing/);
  });

  it('waits for a slow stdin writer once data has started arriving', async () => {
    const child = spawn(process.execPath, [EXECUTOR_BIN], {
      env: cleanEnv({ LLMCTL_EXECUTOR_STDIN_WAIT_MS: '2000' }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    const text = echoPayload('slow-writer');
    child.stdin.write(text.slice(0, 10));
    // The rest comes after the initial wait window has long passed.
    setTimeout(() => child.stdin.end(text.slice(10)), 2500);
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    assert.equal(code, 0);
    assert.equal(parseOutput(stdout).result.stdout, 'slow-writer\n');
  });

  it('never reads an interactive terminal', { timeout: 120_000 }, async () => {
    // script(1) gives the executor a pseudo-terminal as stdin; nobody types into it.
    // A wait window far longer than the test's own timeout: reading the terminal would hang.
    const child = spawn('script', ['-qec', `${process.execPath} ${EXECUTOR_BIN}`, '/dev/null'], {
      env: cleanEnv({ LLMCTL_EXECUTOR_STDIN_WAIT_MS: '3600000' }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    child.stdin.destroy();
    assert.equal(code, 2);
    const line = stdout.split(/\r?\n/).find((l) => l.startsWith('LLMCTL_EXECUTOR_RESULT_JSON='));
    assert.ok(line, `no result line in ${stdout}`);
    const result = JSON.parse(line.slice('LLMCTL_EXECUTOR_RESULT_JSON='.length)) as { error: { message: string } };
    assert.match(result.error.message, /stdin is a terminal/);
  });
});
