/**
 * The remembered handles of started containers (src/docker/started-cache.ts) and the warm path's
 * check of them (warm-started.ts), against a real runtime on loopback; no Docker needed. An entry
 * holds a bearer token: only this user may read it, and one that anyone else could have written,
 * or that points at a runtime not serving the pin, is never believed.
 */
import assert from 'node:assert/strict';
import { chmodSync, readdirSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ContainerHandle } from '../../src/docker/handle.js';
import { dropStartedEntry, readStartedEntry, writeStartedEntry } from '../../src/docker/started-cache.js';
import { warmStarted } from '../../src/docker/warm-started.js';
import { tempDir } from '../helpers/cli.js';
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const OTHER = `sha256:${'b'.repeat(64)}`;
const NAME = 'procctl-testing-echo-v1-mock';

const handle = (over: Partial<ContainerHandle> = {}): ContainerHandle => ({ id: 'c0ffee', name: NAME, ref: 'testing/echo@1', mode: 'mock', digest: DIGEST, scope: 'started', endpoint: 'http://127.0.0.1:9', token: 'secret-token-value', ...over });
const envWith = (dir = tempDir('procctl-cache-'), extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ PROCCTL_CACHE_DIR: dir, ...extra });
const entryFile = (env: NodeJS.ProcessEnv) => {
  const folder = join(env['PROCCTL_CACHE_DIR'] as string, 'started');
  const names = readdirSync(folder);
  assert.equal(names.length, 1, `entries: ${names.join(', ')}`);
  return join(folder, names[0] as string);
};

describe('remembered started containers', () => {
  it('writes an entry only this user can read, in a folder only this user can enter, and reads it back', () => {
    const env = envWith();
    writeStartedEntry(handle(), env);
    assert.equal(statSync(entryFile(env)).mode & 0o777, 0o600);
    assert.equal(statSync(join(env['PROCCTL_CACHE_DIR'] as string, 'started')).mode & 0o777, 0o700);
    assert.deepEqual(readStartedEntry(NAME, env), handle());
  });

  it('never remembers an ephemeral or real container (its 127.0.0.1 port may be anyone\'s once it stops), or one without an endpoint or token', () => {
    for (const over of [{ scope: 'ephemeral' as const }, { mode: 'real' as const, endpoint: 'http://127.0.0.1:32768' }, { endpoint: '' }, { token: '' }]) {
      const env = envWith();
      writeStartedEntry(handle(over), env);
      assert.equal(readStartedEntry(NAME, env), undefined, JSON.stringify(over));
    }
  });

  it('does not believe an entry others could read or write, a symlink, or one in a folder others can write', () => {
    const readable = envWith();
    writeStartedEntry(handle(), readable);
    chmodSync(entryFile(readable), 0o644);
    assert.equal(readStartedEntry(NAME, readable), undefined, 'a file others can read');

    const openFolder = envWith();
    writeStartedEntry(handle(), openFolder);
    chmodSync(join(openFolder['PROCCTL_CACHE_DIR'] as string, 'started'), 0o777);
    assert.equal(readStartedEntry(NAME, openFolder), undefined, 'a folder others can write');

    const linked = envWith();
    writeStartedEntry(handle(), linked);
    const file = entryFile(linked);
    const real = `${file}.real`;
    writeFileSync(real, JSON.stringify(handle()), { mode: 0o600 });
    unlinkSync(file);
    symlinkSync(real, file);
    assert.equal(readStartedEntry(NAME, linked), undefined, 'a symlink');
  });

  it('keys entries by engine and name: another DOCKER_HOST or container name finds nothing', () => {
    const dir = tempDir('procctl-cache-');
    writeStartedEntry(handle(), envWith(dir));
    assert.ok(readStartedEntry(NAME, envWith(dir)));
    assert.equal(readStartedEntry(NAME, envWith(dir, { DOCKER_HOST: 'tcp://127.0.0.1:2375' })), undefined);
    assert.equal(readStartedEntry('procctl-testing-echo-v1-real', envWith(dir)), undefined);
  });

  it('ignores entries that are not whole handles', () => {
    for (const text of ['', '{', 'null', '[]', JSON.stringify({ ...handle(), token: 7 }), JSON.stringify({ ...handle(), name: 'procctl-other-v1-mock' }), JSON.stringify({ ...handle(), endpoint: undefined }), JSON.stringify({ ...handle(), mode: 'real' })]) {
      const env = envWith();
      writeStartedEntry(handle(), env);
      writeFileSync(entryFile(env), text);
      assert.equal(readStartedEntry(NAME, env), undefined, text);
    }
  });

  it('drops an entry on request', () => {
    const env = envWith();
    writeStartedEntry(handle(), env);
    dropStartedEntry(NAME, env);
    assert.equal(readStartedEntry(NAME, env), undefined);
  });
});

describe('the warm path', () => {
  let runtime: TestRuntime;
  before(async () => {
    runtime = await startTestRuntime({ imageDigest: DIGEST });
  });
  after(() => runtime.stop());

  it('uses the remembered container when it answers /healthz with the pinned digest', async () => {
    const env = envWith();
    writeStartedEntry(handle({ endpoint: runtime.url }), env);
    assert.deepEqual(await warmStarted(NAME, DIGEST, env), handle({ endpoint: runtime.url }));
  });

  it('falls back (and forgets) when the pin changed, or the runtime serves another digest', async () => {
    const repinned = envWith();
    writeStartedEntry(handle({ endpoint: runtime.url }), repinned);
    assert.equal(await warmStarted(NAME, OTHER, repinned), undefined);
    assert.equal(readStartedEntry(NAME, repinned), undefined);

    const otherImage = envWith();
    writeStartedEntry(handle({ endpoint: runtime.url, digest: OTHER }), otherImage);
    assert.equal(await warmStarted(NAME, OTHER, otherImage), undefined, 'the runtime reports DIGEST, the entry claims OTHER');
    assert.equal(readStartedEntry(NAME, otherImage), undefined);
  });

  it('falls back (and forgets) when nothing answers at the remembered endpoint', async () => {
    const env = envWith();
    writeStartedEntry(handle({ endpoint: 'http://127.0.0.1:9' }), env);
    assert.equal(await warmStarted(NAME, DIGEST, env), undefined);
    assert.deepEqual(readdirSync(join(env['PROCCTL_CACHE_DIR'] as string, 'started')), []);
  });
});
