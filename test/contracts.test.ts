import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  buildMeta,
  canonicalJson,
  contentId,
  ERROR_CODES,
  errorEnvelope,
  EXPORTED_SCHEMAS,
  ENVELOPE_V1_SCHEMA,
  parseInputsBytes,
  ProcctlError,
  resolveMode,
  successEnvelope,
  validateAgainst,
} from '../src/index.js';
import { REPO_ROOT } from './helpers/paths.js';

describe('canonical JSON (RFC 8785)', () => {
  it('sorts keys by UTF-16 code units and drops insignificant whitespace', () => {
    assert.equal(canonicalJson({ b: 1, a: [true, null, 'x'], 'é': 2, '\u20ac': 3, '\ud83d\ude00': 4 }), '{"a":[true,null,"x"],"b":1,"é":2,"€":3,"😀":4}');
  });
  it('serialises numbers the ECMAScript way', () => {
    assert.equal(canonicalJson([1e21, 1e-7, -0, 0.1 + 0.2, 100]), '[1e+21,1e-7,0,0.30000000000000004,100]');
  });
  it('escapes only what JSON requires', () => {
    assert.equal(canonicalJson('\u0007"\\/\u2028'), '"\\u0007\\"\\\\/\u2028"');
  });
  it('refuses values with no JSON form', () => {
    assert.throws(() => canonicalJson(undefined), TypeError);
  });
});

describe('content ids', () => {
  it('are sha256:<hex> of the bytes, like OCI digests', () => {
    assert.equal(contentId(''), 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    assert.equal(contentId(Buffer.from('abc')), 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('the error table', () => {
  it('gives every code a message, a retry flag and a non-zero exit code', () => {
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      assert.match(code, /^ERR_[A-Z_]+$/);
      assert.ok(info.message.length > 0, code);
      assert.equal(typeof info.retryable, 'boolean', code);
      assert.ok(Number.isInteger(info.exitCode) && info.exitCode > 0 && info.exitCode < 126, code);
    }
  });
  it('carries the seed codes', () => {
    for (const code of ['ERR_MISSING_SECRET', 'ERR_OUTPUT_DUPLICATE', 'ERR_IMAGE_PULL', 'ERR_TIMEOUT', 'ERR_FUNCTION_NOT_FOUND']) assert.ok(code in ERROR_CODES, code);
  });
  it('lets a thrown error override retryable and keeps the exit code of its code', () => {
    const err = new ProcctlError('ERR_PROVIDER', 'upstream 400', { status: 400 }, { retryable: false });
    assert.equal(err.retryable, false);
    assert.equal(err.exitCode, ERROR_CODES.ERR_PROVIDER.exitCode);
  });
});

describe('inputs v1', () => {
  it('accepts the documented shape and settles the mode', () => {
    const inputs = parseInputsBytes(Buffer.from('{"schema":"v1","params":{}}'), 'test');
    assert.deepEqual(resolveMode(inputs, undefined), { schema: 'v1', params: {}, mode: 'mock' });
    assert.equal(resolveMode(inputs, 'real').mode, 'real');
  });
  it('rejects a --mode that contradicts the inputs', () => {
    const inputs = parseInputsBytes(Buffer.from('{"schema":"v1","mode":"mock","params":{}}'), 'test');
    assert.throws(() => resolveMode(inputs, 'real'), (e: ProcctlError) => e.code === 'ERR_INPUT_INVALID' && /contradicts/.test(e.message));
  });
  it('names the source and the position of a JSON syntax error', () => {
    assert.throws(() => parseInputsBytes(Buffer.from('{"schema":'), 'inputs.json'), (e: ProcctlError) => e.code === 'ERR_INPUT_INVALID' && e.message.includes('inputs.json') && /JSON/.test(e.message));
  });
  it('finds the offset of the first byte that is not UTF-8', () => {
    const bytes = Buffer.concat([Buffer.from('{"schema":"v1","params":{"x":"ok'), Buffer.from([0xc3, 0x28]), Buffer.from('"}}')]);
    assert.throws(() => parseInputsBytes(bytes, 'f.json'), (e: ProcctlError) => e.code === 'ERR_INPUT_ENCODING' && e.message.includes('at byte 32'));
  });
  it('rejects unknown top-level fields and wrong versions, saying where', () => {
    assert.throws(() => parseInputsBytes(Buffer.from('{"schema":"v2","params":{}}'), 's'), (e: ProcctlError) => /schema "v2"/.test(e.message));
    assert.throws(() => parseInputsBytes(Buffer.from('{"schema":"v1","params":{},"extra":1}'), 's'), (e: ProcctlError) => /unknown property "extra"/.test(e.message));
    assert.throws(() => parseInputsBytes(Buffer.from('{"schema":"v1","params":[]}'), 's'), (e: ProcctlError) => /inputs\/params must be object/.test(e.message));
  });
});

describe('envelopes', () => {
  const meta = buildMeta({ mode: 'real', imageDigest: null, platform: 'linux/amd64', inputsHash: null, secretsPresent: ['B_KEY', 'A_KEY', 'B_KEY'] });
  it('fingerprints the environment by secret names, sorted and unique, never values', () => {
    assert.deepEqual(meta.secrets_present, ['A_KEY', 'B_KEY']);
    assert.equal(meta.env_fingerprint, buildMeta({ mode: 'mock', imageDigest: null, platform: 'linux/amd64', inputsHash: 'sha256:' + '0'.repeat(64), secretsPresent: ['A_KEY', 'B_KEY'] }).env_fingerprint);
    assert.notEqual(meta.env_fingerprint, buildMeta({ mode: 'real', imageDigest: null, platform: 'linux/arm64', inputsHash: null, secretsPresent: ['A_KEY', 'B_KEY'] }).env_fingerprint);
  });
  it('sort outputs by path and validate against the exported schema', () => {
    const out = (path: string) => ({ path, cid: contentId(path), size_bytes: 1, mime: 'text/plain' });
    const ok = successEnvelope({ executionId: 'e', ref: 'a/b@1', outputs: [out('b'), out('B'), out('a')], indexPath: 'x/outputs.json', meta });
    assert.deepEqual(ok.outputs.map((o) => o.path), ['B', 'a', 'b']);
    assert.deepEqual(validateAgainst(ENVELOPE_V1_SCHEMA, ok), []);
    const bad = errorEnvelope({ executionId: 'e', ref: 'a/b@1', error: new ProcctlError('ERR_TIMEOUT', 'slow'), meta });
    assert.deepEqual(validateAgainst(ENVELOPE_V1_SCHEMA, bad), []);
    assert.equal(bad.error.retryable, true);
    assert.notDeepEqual(validateAgainst(ENVELOPE_V1_SCHEMA, { ...ok, time: 1 }), []);
  });
});

describe('exported schemas', () => {
  it('are committed under schemas/ exactly as the code enforces them', () => {
    for (const [file, schema] of Object.entries(EXPORTED_SCHEMAS)) {
      const committed: unknown = JSON.parse(readFileSync(join(REPO_ROOT, 'schemas', file), 'utf8'));
      assert.deepEqual(committed, schema, `schemas/${file} is stale: run \`procctl schema --write schemas\``);
    }
  });
});
