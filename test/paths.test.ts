import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProcctlError} from '../src/index.js';
import { canonicalPath, planOutputs, resolveWritePrefix } from '../src/index.js';

const bad = (path: string, reason: RegExp) =>
  assert.throws(() => canonicalPath(path), (e: ProcctlError) => e.code === 'ERR_OUTPUT_PATH' && reason.test(e.message), path);

describe('output path canonicalisation', () => {
  it('keeps ordinary paths and collapses repeated slashes', () => {
    assert.equal(canonicalPath('text/response.txt'), 'text/response.txt');
    assert.equal(canonicalPath('a//b///c'), 'a/b/c');
  });
  it('decodes percent-escapes exactly once', () => {
    assert.equal(canonicalPath('a%20b'), 'a b');
    assert.equal(canonicalPath('a%2520b'), 'a%20b');
  });
  it('normalises to NFC, so NFD twins become one path', () => {
    assert.equal(canonicalPath('cafe\u0301.txt'), 'caf\u00e9.txt');
    assert.equal(canonicalPath('caf%C3%A9.txt'), 'caf\u00e9.txt');
  });
  it('rejects what could escape or confuse', () => {
    bad('a/../b', /"\.\." segment/);
    bad('./a', /"\." segment/);
    bad('a/%2E%2E/b', /"\.\." segment/);
    bad('a%2Fb', /encodes a "\/"/);
    bad('a%2fb', /encodes a "\/"/);
    bad('/etc/passwd', /absolute/);
    bad('dir/', /names a directory/);
    bad('', /empty/);
    bad('//', /absolute/);
    bad('a%zzb', /not followed by two hex digits/);
    bad('a%C3', /not UTF-8/);
    bad('a\\b', /backslash/);
    bad('a\u0000b', /control character/);
  });
  it('caps segment and total length', () => {
    assert.equal(canonicalPath('x'.repeat(255)), 'x'.repeat(255));
    bad('x'.repeat(256), /segment longer than 255 bytes/);
    bad(Array.from({ length: 20 }, () => 'y'.repeat(99)).join('/'), /longer than 1024 bytes/);
    bad('z'.repeat(2000), /segment longer than 255 bytes/);
    bad('é'.repeat(128), /segment longer than 255 bytes/); // 256 bytes of UTF-8
  });
});

describe('output plans', () => {
  const out = (path: string, text = path) => ({ path, bytes: Buffer.from(text), mime: 'text/plain' });
  it('fail with ERR_OUTPUT_DUPLICATE naming both spellings and the path', () => {
    assert.throws(() => planOutputs('p/', [out('caf\u00e9.txt'), out('cafe\u0301.txt')]), (e: ProcctlError) => e.code === 'ERR_OUTPUT_DUPLICATE' && e.message.includes('"café.txt"') && e.details?.['path'] === 'caf\u00e9.txt');
    assert.throws(() => planOutputs('p/', [out('a/b'), out('a//b')]), (e: ProcctlError) => e.code === 'ERR_OUTPUT_DUPLICATE');
    assert.throws(() => planOutputs('p/', [out('a b'), out('a%20b')]), (e: ProcctlError) => e.code === 'ERR_OUTPUT_DUPLICATE');
  });
  it('refuse a path that is also another output\'s directory', () => {
    assert.throws(() => planOutputs('p/', [out('a'), out('a/b')]), (e: ProcctlError) => e.code === 'ERR_OUTPUT_PATH' && /both a file and the directory/.test(e.message));
  });
  it('sort by path and key outputs under {prefix}outputs/', () => {
    const plan = planOutputs('x/e1/', [out('b'), out('a/z')]);
    assert.deepEqual(plan.outputs.map((o) => o.path), ['x/e1/outputs/a/z', 'x/e1/outputs/b']);
    assert.equal(plan.indexPath, 'x/e1/outputs.json');
  });
});

describe('write prefix templates', () => {
  const bad = (template: string, reason: RegExp) =>
    assert.throws(() => resolveWritePrefix(template, 'e1'), (e: ProcctlError) => e.code === 'ERR_PREFIX_TEMPLATE' && reason.test(e.message), template);
  it('expand {execution_id} into a canonical prefix ending in "/"', () => {
    assert.equal(resolveWritePrefix('runs/{execution_id}', 'e1'), 'runs/e1/');
    assert.equal(resolveWritePrefix('runs//{execution_id}/out/', 'e1'), 'runs/e1/out/');
  });
  it('reject templates without the placeholder, with others, unbalanced or escaping', () => {
    bad('runs/', /lacks \{execution_id\}/);
    bad('runs/{run_id}/', /unknown placeholder \{run_id\}/);
    bad('runs/{execution_id', /lacks|unbalanced/);
    bad('runs/{execution_id}}', /unbalanced/);
    bad('../{execution_id}', /does not give a valid path/);
    bad('/abs/{execution_id}', /does not give a valid path/);
  });
  it('reject execution ids that are not safe path segments', () => {
    assert.throws(() => resolveWritePrefix('r/{execution_id}', '../x'), (e: ProcctlError) => e.code === 'ERR_EXECUTION_ID');
    assert.throws(() => resolveWritePrefix('r/{execution_id}', 'x'.repeat(129)), (e: ProcctlError) => e.code === 'ERR_EXECUTION_ID');
  });
});
