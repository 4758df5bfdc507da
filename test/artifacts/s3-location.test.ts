import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { FsArtifactStore, openStore, parseS3Location, ProcctlError, S3ArtifactStore } from '../../src/index.js';
import { cleanEnv, HELLO_INPUTS, runCli, tempDir } from '../helpers/cli.js';
import { errorOf } from '../helpers/envelope.js';
import { FIXTURES } from '../helpers/paths.js';
import { freePort, s3Env } from '../helpers/s3rver.js';

function usageError(call: () => unknown, message: RegExp): void {
  assert.throws(call, (err: unknown) => err instanceof ProcctlError && err.code === 'ERR_USAGE' && message.test(err.message));
}

describe('s3:// locations', () => {
  it('splits bucket and prefix, canonicalising the prefix', () => {
    assert.deepEqual(parseS3Location('s3://procctl'), { bucket: 'procctl', prefix: '' });
    assert.deepEqual(parseS3Location('s3://procctl/'), { bucket: 'procctl', prefix: '' });
    assert.deepEqual(parseS3Location('S3://my.bucket-1/runs//2024/'), { bucket: 'my.bucket-1', prefix: 'runs/2024' });
    assert.deepEqual(parseS3Location('s3://procctl/cafe\u0301 runs'), { bucket: 'procctl', prefix: 'caf\u00e9 runs' });
  });

  it('refuses a missing or invalid bucket and a prefix that climbs out', () => {
    usageError(() => parseS3Location('s3://'), /"s3:\/\/" names no bucket/);
    usageError(() => parseS3Location('s3:///runs'), /names no bucket/);
    usageError(() => parseS3Location('s3://Procctl/x'), /invalid bucket name "Procctl": a bucket name may contain only lower-case letters/);
    usageError(() => parseS3Location('s3://ab/x'), /must be 3 to 63 characters long/);
    usageError(() => parseS3Location('s3://-bucket/x'), /must start and end with a letter or digit/);
    usageError(() => parseS3Location('s3://my..bucket'), /may not contain "\.\."/);
    usageError(() => parseS3Location('s3://192.168.1.10/x'), /may not look like an IP address/);
    usageError(() => parseS3Location('s3://procctl/a/../../b'), /invalid prefix: .*"\.\." segment/);
    usageError(() => parseS3Location('s3://procctl/a?versionId=1'), /"\?" or "#"/);
  });
});

describe('openStore', () => {
  it('opens S3 for s3:// and the filesystem for a directory or a file:// URL', async () => {
    const s3 = await openStore('s3://procctl/runs/');
    assert.ok(s3 instanceof S3ArtifactStore);
    assert.equal(s3.location, 's3://procctl/runs');
    const dir = tempDir();
    assert.ok((await openStore(join(dir, 'artifacts'))) instanceof FsArtifactStore);
    const viaUrl = await openStore(pathToFileURL(join(dir, 'artifacts')).href);
    assert.ok(viaUrl instanceof FsArtifactStore);
    assert.equal(viaUrl.location, pathToFileURL(join(dir, 'artifacts')).href);
  });

  it('refuses other schemes instead of making a directory called "gs:"', async () => {
    await assert.rejects(openStore('gs://bucket/x'), (err: unknown) => err instanceof ProcctlError && err.code === 'ERR_USAGE' && /has scheme gs:\/\//.test(err.message));
  });

  it('turns a bad location or path-style setting into ERR_USAGE, exit 2, from the CLI', async () => {
    const run = (artifacts: string, extra: NodeJS.ProcessEnv = {}) =>
      runCli(['run', '--ref', 'llm/litellm@1', '--json', '--inputs-json', HELLO_INPUTS, '--artifacts', artifacts], { env: cleanEnv(extra) });
    assert.match(errorOf(await run('s3://'), 'ERR_USAGE', 2).message, /names no bucket; write s3:\/\/BUCKET or s3:\/\/BUCKET\/PREFIX/);
    assert.match(errorOf(await run('s3://Bad_Bucket/p'), 'ERR_USAGE', 2).message, /invalid bucket name "Bad_Bucket"/);
    assert.match(errorOf(await run('s3://procctl/p', { PROCCTL_S3_FORCE_PATH_STYLE: 'maybe' }), 'ERR_USAGE', 2).message, /PROCCTL_S3_FORCE_PATH_STYLE="maybe" is not 1 or 0/);
  });

  it('loads the AWS SDK for an s3:// store only, so the default path does not pay for it', async () => {
    const log = join(tempDir(), 'resolved.txt');
    const probe = { NODE_OPTIONS: `--import=${pathToFileURL(join(FIXTURES, 'load-probe/register.mjs')).href}`, PROCCTL_LOAD_PROBE_LOG: log };
    const args = ['run', '--ref', 'llm/litellm@1', '--json', '--inputs-json', HELLO_INPUTS];
    const resolved = () => readFileSync(log, 'utf8').split('\n').filter(Boolean);

    const onDisk = await runCli(args, { env: cleanEnv(probe) });
    assert.equal(onDisk.code, 0, onDisk.stderr);
    assert.ok(resolved().includes('commander'), 'the probe saw the CLI load');
    assert.deepEqual(resolved().filter((s) => s.startsWith('@aws-sdk/')), []);

    const inS3 = await runCli([...args, '--artifacts', 's3://procctl/p'], { env: cleanEnv({ ...probe, ...s3Env(`http://127.0.0.1:${await freePort()}`, 'unused') }) });
    errorOf(inS3, 'ERR_ARTIFACT_STORE', 6);
    assert.ok(resolved().includes('@aws-sdk/client-s3'), 'and sees the SDK load for S3');
  });
});
