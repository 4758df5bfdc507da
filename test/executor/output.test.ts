// The stdout contract (start markers, exactly one final result line) and the result file.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RESULT_PREFIX, payload, runExecutor, runPayload, tempDir } from './helpers.js';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('stdout contract (real bin)', () => {
  it('prints both start markers, then exactly one result line, and nothing of the command', async () => {
    const run = await runPayload(payload({ shell_command: 'echo LLMCTL_EXECUTOR_RESULT_JSON=spoof; echo plain' }));
    assert.equal(run.lines.length, 3, run.stdout);
    assert.equal(run.lines[0], 'LLMCTL_EXECUTOR_STARTED');
    const event = JSON.parse(run.lines[1] ?? '') as Record<string, unknown>;
    assert.deepEqual(Object.keys(event), ['event', 'contract_version', 'ts']);
    assert.equal(event.event, 'executor_started');
    assert.equal(event.contract_version, 'v1');
    assert.match(String(event.ts), ISO);
    assert.equal(run.lines.filter((l) => l.startsWith(RESULT_PREFIX)).length, 1);
    // The command's own output, spoofed result line included, lives only inside the result.
    assert.equal(run.result.stdout, 'LLMCTL_EXECUTOR_RESULT_JSON=spoof\nplain\n');
  });

  it('omits the markers when emit_start_markers is false', async () => {
    const run = await runPayload(payload({ command: ['true'], emit_start_markers: false }));
    assert.equal(run.lines.length, 1);
    assert.ok(run.lines[0]?.startsWith(RESULT_PREFIX));
  });

  it('carries every required field, echoes request_id and metadata, and reports metrics', async () => {
    const run = await runPayload(payload({ command: ['echo', 'x'], request_id: 'req-1', metadata: { team: 'a', n: [1, 2] } }));
    const r = run.result;
    assert.equal(r.contract_version, 'v1');
    assert.match(r.started_at, ISO);
    assert.match(r.finished_at, ISO);
    assert.ok(Date.parse(r.finished_at) >= Date.parse(r.started_at));
    assert.equal(r.request_id, 'req-1');
    assert.deepEqual(r.metadata, { team: 'a', n: [1, 2] });
    assert.equal(r.provider_metadata.provider, 'workspace');
    assert.equal(typeof r.metrics?.duration_ms, 'number');
    assert.ok((r.metrics?.duration_ms ?? -1) >= 0);
    assert.equal(r.metrics?.stdout_bytes, 2);
  });

  it('keeps the result on one line whatever the command prints', async () => {
    const run = await runPayload(payload({ shell_command: "printf 'a\\nb\\r\\nc\\u2028d\\0e'" }));
    assert.equal(run.lines.length, 3);
    assert.equal(run.result.stdout, 'a\nb\r\nc\u2028d\u0000e');
  });
});

describe('result file (real bin)', () => {
  it('writes the same result to --output-file', async () => {
    const file = join(tempDir(), 'out', 'result.json');
    const run = await runExecutor(['--output-file', file, '--payload-json', JSON.stringify(payload({ command: ['echo', 'f'] }))]);
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), run.result);
    assert.deepEqual(readdirSync(join(file, '..')), ['result.json'], 'no temporary files left behind');
  });

  it('honours LLMCTL_EXECUTOR_OUTPUT_FILE, and --output-file over it', async () => {
    const dir = tempDir();
    const envFile = join(dir, 'env.json');
    const flagFile = join(dir, 'flag.json');
    const json = JSON.stringify(payload({ command: ['true'] }));
    await runExecutor(['--payload-json', json], { env: { LLMCTL_EXECUTOR_OUTPUT_FILE: envFile } });
    assert.equal((JSON.parse(readFileSync(envFile, 'utf8')) as { status: string }).status, 'success');
    await runExecutor(['--payload-json', json, '--output-file', flagFile], { env: { LLMCTL_EXECUTOR_OUTPUT_FILE: join(dir, 'unused.json') } });
    assert.deepEqual(readdirSync(dir).sort(), ['env.json', 'flag.json']);
  });

  it('replaces an existing file whole', async () => {
    const file = join(tempDir(), 'result.json');
    writeFileSync(file, 'x'.repeat(100_000));
    const run = await runExecutor(['--output-file', file, '--payload-json', JSON.stringify(payload({ command: ['true'] }))]);
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), run.result);
  });

  it('writes the result file for an invalid payload too', async () => {
    const file = join(tempDir(), 'result.json');
    const run = await runExecutor(['--output-file', file, '--payload-json', '{}']);
    assert.equal(run.result.status, 'infra_error');
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), run.result);
  });

  it('reports an unwritable result file as infra_error 3, keeping the command outcome', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'result.json'));
    const run = await runExecutor(['--output-file', join(dir, 'result.json'), '--payload-json', JSON.stringify(payload({ shell_command: 'exit 5' }))]);
    assert.equal(run.code, 3);
    assert.equal(run.result.status, 'infra_error');
    assert.equal(run.result.error?.code, 'output_file');
    assert.equal(run.result.error?.details?.command_status, 'failed');
    assert.equal(run.result.error?.details?.command_exit_code, 5);
    assert.deepEqual(readdirSync(dir), ['result.json'], 'no temporary files left behind');
  });
});
