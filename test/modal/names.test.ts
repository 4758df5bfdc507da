import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { appName, checkEnvironment, imageFor, isModalName, modalName, parseTtl, sandboxName, type ProcctlError } from '../../src/index.js';
import { Registry } from '../../src/index.js';
import { FIXTURE_REGISTRY } from '../helpers/paths.js';

describe('Modal names', () => {
  it('are always valid Modal names, for any ref, mode, branch and user', () => {
    fc.assert(
      fc.property(fc.string(), fc.constantFrom('mock', 'real') as fc.Arbitrary<'mock' | 'real'>, fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary', maxLength: 300 }), (slug, mode, branch, user) => {
        const name = sandboxName(slug || 'x', mode, { GIT_BRANCH: branch, GIT_USER: user });
        assert.ok(isModalName(name), name);
        assert.ok(name.length < 64);
      }),
      { numRuns: 500 },
    );
  });

  it('are stable, and different inputs give different names (the hash decides where cleaning would merge them)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), fc.string({ maxLength: 120 }), (a, b) => {
        assert.equal(modalName('procctl', a), modalName('procctl', a));
        if (a !== b) assert.notEqual(modalName('procctl', a), modalName('procctl', b));
      }),
      { numRuns: 500 },
    );
  });

  it('keep a valid name as it is, and name the owner when GIT_BRANCH / GIT_USER are set', () => {
    assert.equal(sandboxName('llm-litellm-v1', 'mock', {}), 'procctl-llm-litellm-v1-mock');
    assert.equal(sandboxName('llm-litellm-v1', 'real', { GIT_BRANCH: 'main', GIT_USER: 'ada' }), 'procctl-llm-litellm-v1-real-main-ada');
    assert.match(sandboxName('llm-litellm-v1', 'mock', { GIT_BRANCH: 'feat/x' }), /^procctl-llm-litellm-v1-mock-feat-x-[0-9a-f]{10}$/);
    const long = sandboxName('llm-litellm-v1', 'mock', { GIT_BRANCH: 'b'.repeat(200) });
    assert.equal(long.length, 63);
    assert.equal(appName('dev'), 'procctl-dev');
  });

  it('refuse an --env that is not a Modal environment name', () => {
    for (const env of ['', 'a/b', 'x'.repeat(64), 'dév', 'a b']) assert.throws(() => checkEnvironment(env), (err: ProcctlError) => err.code === 'ERR_USAGE');
    assert.equal(checkEnvironment('main'), 'main');
  });
});

describe('modalctl start flags', () => {
  it('--ttl: seconds or s/m/h, whole seconds from 1 s to 24 h', () => {
    assert.equal(parseTtl('90'), 90);
    assert.equal(parseTtl('30m'), 1800);
    assert.equal(parseTtl('2h'), 7200);
    assert.equal(parseTtl('1.5s'), 2);
    for (const bad of ['0', '-1', '25h', 'soon', '', '1d', '86401']) assert.throws(() => parseTtl(bad), (err: ProcctlError) => err.code === 'ERR_USAGE', bad);
    fc.assert(fc.property(fc.integer({ min: 1, max: 86400 }), (s) => assert.equal(parseTtl(String(s)), s)));
  });

  it('--oci must be a digest reference: a tag is refused, naming the right form', () => {
    const snapshot = new Registry(FIXTURE_REGISTRY).snapshot('testing/echo@1');
    const digest = `sha256:${'a'.repeat(64)}`;
    assert.deepEqual(imageFor(snapshot, `ghcr.io/org/image@${digest}`), { reference: `ghcr.io/org/image@${digest}`, digest });
    for (const bad of ['ghcr.io/org/image:latest', 'ghcr.io/org/image', `image@${digest}`, `ghcr.io/org/image@sha256:abc`, `ghcr.io/org/image:1@${digest}x`]) {
      assert.throws(() => imageFor(snapshot, bad), (err: ProcctlError) => err.code === 'ERR_USAGE' && /REPOSITORY@sha256:<64 hex digits>/.test(err.message), bad);
    }
  });
});
