import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cleanEnv, HELLO_INPUTS, runCli } from './helpers/cli.js';
import { envelopeOf } from './helpers/envelope.js';
import { FIXTURE_REGISTRY, LOCALCTL_BIN } from './helpers/paths.js';

// What localctl says before any container exists; none of this needs a Docker engine.
const localctl = (args: string[], env = cleanEnv()) => runCli(args, { bin: LOCALCTL_BIN, env });
const noEngine = cleanEnv({ DOCKER_HOST: 'unix:///nonexistent/procctl-test-docker.sock' });

describe('localctl without containers', () => {
  it('says how to pin an image when the registry entry pins none', async () => {
    const result = await localctl(['start', '--ref', 'llm/litellm@1']);
    assert.equal(result.code, 7);
    assert.match(result.stderr, /^error ERR_IMAGE_NOT_PINNED: llm\/litellm@1 pins no image for linux\/\w+; build, push and pin one with: procctl images build --ref llm\/litellm@1\n$/);
  });

  it('reports an engine that does not answer as ERR_DOCKER_UNAVAILABLE, for every command', async () => {
    for (const args of [['status'], ['start', '--ref', 'testing/echo@1', '--registry', FIXTURE_REGISTRY], ['stop', '--all'], ['logs', '--ref', 'testing/echo@1', '--registry', FIXTURE_REGISTRY]]) {
      const result = await localctl(args, noEngine);
      assert.equal(result.code, 7, args.join(' '));
      assert.match(result.stderr, /^error ERR_DOCKER_UNAVAILABLE: no Docker engine answers \(ENOENT\); start dockerd/, args.join(' '));
    }
    const run = await localctl(['run', '--ref', 'testing/echo@1', '--registry', FIXTURE_REGISTRY, '--json', '--inputs-json', HELLO_INPUTS.replace('"messages":[{"role":"user","content":"Hello"}]', '')], noEngine);
    assert.equal(run.code, 7);
    const envelope = envelopeOf(run);
    assert.equal(envelope.status === 'error' && envelope.error.code, 'ERR_DOCKER_UNAVAILABLE');
  });

  it('needs --ref or --all to stop anything', async () => {
    const result = await localctl(['stop']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /stop needs --ref REF or --all/);
  });

  it('refuses bad flags before it asks the engine anything', async () => {
    const cases: [string[], RegExp][] = [
      [['logs', '--ref', 'testing/echo@1', '--registry', FIXTURE_REGISTRY, '--tail', 'abc'], /^error ERR_USAGE: --tail abc is not a whole number\n$/],
      [['logs', '--ref', 'testing/echo@1', '--registry', FIXTURE_REGISTRY, '--tail', '-5'], /^error ERR_USAGE: --tail -5 is not a whole number\n$/],
      [['stop', '--ref', 'testing/echo@1', '--registry', FIXTURE_REGISTRY, '--grace', 'soon'], /^error ERR_USAGE: --grace soon is not a number of seconds\n$/],
    ];
    for (const [args, expected] of cases) {
      const result = await localctl(args, noEngine);
      assert.equal(result.code, 2, args.join(' '));
      assert.match(result.stderr, expected, args.join(' '));
    }
  });
});
