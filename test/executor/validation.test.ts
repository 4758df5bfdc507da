// Invalid payloads of every kind still produce one result line: status infra_error, exit code 2,
// and a message naming the offending field.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { payload, runExecutor, runPayload } from './helpers.js';

interface Case {
  name: string;
  doc: unknown;
  field: string;
}

const cases: Case[] = [
  { name: 'not an object (array)', doc: [1, 2], field: 'payload' },
  { name: 'not an object (string)', doc: 'hello', field: 'payload' },
  { name: 'null document', doc: null, field: 'payload' },
  { name: 'missing contract_version', doc: { provider: 'workspace', command: ['true'] }, field: 'contract_version' },
  { name: 'wrong contract_version', doc: payload({ contract_version: 'v2', command: ['true'] }), field: 'contract_version' },
  { name: 'numeric contract_version', doc: payload({ contract_version: 1, command: ['true'] }), field: 'contract_version' },
  { name: 'missing provider', doc: { contract_version: 'v1', command: ['true'] }, field: 'provider' },
  { name: 'unknown provider', doc: payload({ provider: 'modal', command: ['true'] }), field: 'provider' },
  { name: 'neither command nor shell_command', doc: payload(), field: 'command' },
  { name: 'both command and shell_command', doc: payload({ command: ['true'], shell_command: 'true' }), field: 'command' },
  { name: 'command not an array', doc: payload({ command: 'true' }), field: 'command' },
  { name: 'command empty array', doc: payload({ command: [] }), field: 'command' },
  { name: 'command with a non-string', doc: payload({ command: ['echo', 3] }), field: 'command[1]' },
  { name: 'command with empty program', doc: payload({ command: [''] }), field: 'command[0]' },
  { name: 'command with NUL byte', doc: payload({ command: ['echo', 'a\u0000b'] }), field: 'command[1]' },
  { name: 'shell_command not a string', doc: payload({ shell_command: ['true'] }), field: 'shell_command' },
  { name: 'shell_command blank', doc: payload({ shell_command: '   ' }), field: 'shell_command' },
  { name: 'request_id not a string', doc: payload({ command: ['true'], request_id: 5 }), field: 'request_id' },
  { name: 'cwd not a string', doc: payload({ command: ['true'], cwd: 1 }), field: 'cwd' },
  { name: 'cwd empty', doc: payload({ command: ['true'], cwd: '' }), field: 'cwd' },
  { name: 'env not an object', doc: payload({ command: ['true'], env: ['A=1'] }), field: 'env' },
  { name: 'env value not a string', doc: payload({ command: ['true'], env: { A: 1 } }), field: 'env.A' },
  { name: 'env name with =', doc: payload({ command: ['true'], env: { 'A=B': 'x' } }), field: 'env.A=B' },
  { name: 'stdin not a string', doc: payload({ command: ['true'], stdin: { a: 1 } }), field: 'stdin' },
  { name: 'timeout_seconds not an integer', doc: payload({ command: ['true'], timeout_seconds: 1.5 }), field: 'timeout_seconds' },
  { name: 'timeout_seconds a string', doc: payload({ command: ['true'], timeout_seconds: '10' }), field: 'timeout_seconds' },
  { name: 'timeout_seconds zero', doc: payload({ command: ['true'], timeout_seconds: 0 }), field: 'timeout_seconds' },
  { name: 'timeout_seconds too large', doc: payload({ command: ['true'], timeout_seconds: 10 ** 9 }), field: 'timeout_seconds' },
  { name: 'capture_limit_bytes negative', doc: payload({ command: ['true'], capture_limit_bytes: -1 }), field: 'capture_limit_bytes' },
  {
    name: 'capture_limit_bytes too large',
    doc: payload({ command: ['true'], capture_limit_bytes: 1024 ** 3 }),
    field: 'capture_limit_bytes',
  },
  { name: 'capture_limit_bytes boolean', doc: payload({ command: ['true'], capture_limit_bytes: true }), field: 'capture_limit_bytes' },
  { name: 'emit_start_markers a string', doc: payload({ command: ['true'], emit_start_markers: 'yes' }), field: 'emit_start_markers' },
  {
    name: 'wrong result_contract_version',
    doc: payload({ command: ['true'], result_contract_version: 'v0' }),
    field: 'result_contract_version',
  },
  { name: 'metadata an array', doc: payload({ command: ['true'], metadata: [1] }), field: 'metadata' },
];

describe('payload validation (real bin)', () => {
  for (const c of cases) {
    it(`rejects ${c.name}, naming ${c.field}`, async () => {
      const run = await runExecutor(['--payload-json', JSON.stringify(c.doc)]);
      assert.equal(run.code, 2);
      assert.equal(run.result.status, 'infra_error');
      assert.equal(run.result.exit_code, 2);
      assert.equal(run.result.error?.code, 'invalid_payload');
      const issues = run.result.error?.details?.issues as Array<{ field: string; message: string }>;
      assert.ok(
        issues.some((i) => i.field === c.field),
        `expected an issue for ${c.field}, got ${JSON.stringify(issues)}`,
      );
      assert.match(run.result.error?.message ?? '', new RegExp(c.field.replace(/[[\].]/g, '\\$&')));
      // Nothing ran: no start markers, just the result line.
      assert.deepEqual(run.lines.length, 1);
      for (const key of ['contract_version', 'status', 'exit_code', 'started_at', 'finished_at', 'stdout', 'stderr', 'error', 'provider_metadata'])
        assert.ok(key in run.result, `result lacks ${key}`);
    });
  }

  it('rejects text that is not JSON', async () => {
    const run = await runExecutor(['--payload-json', '{"contract_version": "v1",']);
    assert.equal(run.code, 2);
    assert.equal(run.result.status, 'infra_error');
    assert.match(run.result.error?.message ?? '', /payload: not valid JSON/);
  });

  it('reports every bad field at once', async () => {
    const run = await runPayload({ contract_version: 'v9', provider: 'nowhere', command: [], timeout_seconds: -5 });
    const fields = (run.result.error?.details?.issues as Array<{ field: string }>).map((i) => i.field).sort();
    assert.deepEqual(fields, ['command', 'contract_version', 'provider', 'timeout_seconds']);
  });

  it('echoes request_id and metadata even when the payload is rejected', async () => {
    const run = await runPayload({ contract_version: 'v1', provider: 'workspace', request_id: 'req-7', metadata: { k: 'v' } });
    assert.equal(run.result.status, 'infra_error');
    assert.equal(run.result.request_id, 'req-7');
    assert.deepEqual(run.result.metadata, { k: 'v' });
  });

  it('accepts null for optional fields and warns about unknown ones', async () => {
    const run = await runPayload(
      payload({ command: ['true'], shell_command: null, request_id: null, cwd: null, extra_field: 1, result_contract_version: 'v1' }),
    );
    assert.equal(run.result.status, 'success');
    assert.ok(run.result.warnings?.some((w) => w.includes("unknown payload field 'extra_field'")));
  });

  it('rejects an unknown command-line option with a result line', async () => {
    const run = await runExecutor(['--payload-jsn', '{}']);
    assert.equal(run.code, 2);
    assert.equal(run.result.status, 'infra_error');
    assert.equal(run.result.error?.code, 'usage');
    assert.match(run.result.error?.message ?? '', /--payload-jsn/);
  });
});
