/**
 * Large S3 uploads report their bytes on a terminal's live line (lib-storage's Upload, on the
 * store's own client), against s3rver: the object arrives whole, small puts stay one PutObject with
 * no progress, failures keep their ERR_ARTIFACT_STORE mapping, and a pipe sees nothing of it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ProcctlError, S3ArtifactStore } from '../../src/index.js';
import { S3_PROGRESS_MIN_BYTES } from '../../src/artifacts/s3-store.js';
import { terminalProgress } from '../../src/cli/terminal-progress.js';
import { cleanEnv, recordingStream, runCli, tempDir } from '../helpers/cli.js';
import { FIXTURE_REGISTRY } from '../helpers/paths.js';
import { freePort, S3RVER_ACCESS_KEY_ID, s3Env, startS3rver, type S3Server } from '../helpers/s3rver.js';

const CREDENTIALS = { accessKeyId: S3RVER_ACCESS_KEY_ID, secretAccessKey: 'S3RVER' };

// Wide enough that the upload line is never cut.
const fakeStream = (isTTY: boolean) => recordingStream(isTTY, 200);

async function storeFailure(call: Promise<unknown>): Promise<ProcctlError> {
  const caught = await call.then(
    () => assert.fail('expected the upload to fail'),
    (err: unknown) => err,
  );
  assert.ok(caught instanceof ProcctlError, `a ProcctlError, not ${String(caught)}`);
  assert.equal(caught.code, 'ERR_ARTIFACT_STORE');
  return caught;
}

describe('S3 upload progress against s3rver', () => {
  let server: S3Server;
  before(async () => {
    server = await startS3rver();
  });
  after(() => server.stop());

  it('reports a large upload part by part up to its size, and the object arrives whole with its media type', async () => {
    const seen: { message: string; current?: number; total?: number }[] = [];
    const store = new S3ArtifactStore('s3://procctl/progress', { endpoint: server.endpoint, credentials: CREDENTIALS, uploadProgress: (message, live) => seen.push({ message, ...live }) });
    const bytes = randomBytes(2 * S3_PROGRESS_MIN_BYTES + 12345);
    await store.put('big/blob.bin', bytes, 'application/x-test');
    assert.ok(seen.length >= 3, `one report per part at least: ${JSON.stringify(seen)}`);
    for (const s of seen) {
      assert.equal(s.message, 'uploading big/blob.bin to s3://procctl/progress');
      assert.equal(s.total, bytes.byteLength);
    }
    const currents = seen.map((s) => s.current ?? -1);
    assert.deepEqual([...currents].sort((a, b) => a - b), currents, 'never goes back');
    assert.equal(currents.at(-1), bytes.byteLength, 'ends at the full size');
    const stored = await server.object('progress/big/blob.bin');
    assert.ok(stored.bytes.equals(bytes), 'byte for byte');
    assert.equal(stored.contentType, 'application/x-test');
    assert.ok((await store.get('big/blob.bin')).equals(bytes));
  });

  it('keeps small objects on one PutObject with no progress', async () => {
    let calls = 0;
    const store = new S3ArtifactStore('s3://procctl/small', { endpoint: server.endpoint, credentials: CREDENTIALS, uploadProgress: () => calls++ });
    const bytes = randomBytes(S3_PROGRESS_MIN_BYTES - 1);
    await store.put('a.bin', bytes, 'application/octet-stream');
    assert.equal(calls, 0);
    assert.ok((await server.object('small/a.bin')).bytes.equals(bytes));
  });

  it('maps a failed large upload as before: a missing bucket is final, an endpoint that is down retryable', async () => {
    const big = randomBytes(S3_PROGRESS_MIN_BYTES);
    const missing = new S3ArtifactStore('s3://no-such-bucket/x', { endpoint: server.endpoint, credentials: CREDENTIALS, uploadProgress: () => undefined });
    const final = await storeFailure(missing.put('k.bin', big, 'application/octet-stream'));
    assert.equal(final.retryable, false, final.message);
    assert.match(final.message, /cannot write k\.bin in s3:\/\/no-such-bucket\/x: /);
    const down = new S3ArtifactStore('s3://procctl/down', { endpoint: `http://127.0.0.1:${await freePort()}`, credentials: CREDENTIALS, maxAttempts: 2, uploadProgress: () => undefined });
    const again = await storeFailure(down.put('k.bin', big, 'application/octet-stream'));
    assert.equal(again.retryable, true, again.message);
    assert.match(again.message, /endpoint unreachable/);
  });

  it('draws the upload on a terminal’s live line, and nothing in a pipe or with --json', async () => {
    const bytes = randomBytes(S3_PROGRESS_MIN_BYTES + 1);
    const tty = fakeStream(true);
    const onTty = terminalProgress({ stream: tty.stream });
    await new S3ArtifactStore('s3://procctl/tty', { endpoint: server.endpoint, credentials: CREDENTIALS, uploadProgress: onTty.progress }).put('t.bin', bytes, 'application/octet-stream');
    onTty.end();
    const ESC = String.fromCharCode(27);
    assert.match(tty.text(), new RegExp(`^\\r${ESC}\\[2Kuploading t\\.bin to s3://procctl/tty \\[[#.]{24}\\] \\d+%`));
    assert.ok(tty.text().endsWith('\r\x1b[2K'), 'wiped at the end');
    for (const [out, json] of [[fakeStream(false), false], [fakeStream(true), true]] as const) {
      const shown = terminalProgress({ stream: out.stream, json });
      assert.equal(shown.live, false);
      await new S3ArtifactStore('s3://procctl/pipe', { endpoint: server.endpoint, credentials: CREDENTIALS, uploadProgress: shown.progress }).put('p.bin', bytes, 'application/octet-stream');
      assert.equal(out.text(), '');
    }
  });

  it('procctl run in a pipe stores a large attachment in the bucket and prints no progress', async () => {
    const file = join(tempDir('procctl-big-'), 'big.bin');
    writeFileSync(file, randomBytes(S3_PROGRESS_MIN_BYTES + 4096));
    const inputs = '{"schema":"v1","params":{"attachments":[{"$attach":"big"}]}}';
    const result = await runCli(['run', '--ref', 'testing/echo@1', '--registry', FIXTURE_REGISTRY, '--attach', `big=${file}`, '--inputs-json', inputs, '--artifacts', 's3://procctl/run'], { env: cleanEnv(s3Env(server.endpoint, 'S3RVER')) });
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stderr, /uploading/);
    assert.ok(!result.stderr.includes(`${String.fromCharCode(27)}[2K`), 'no live line');
    assert.ok((await server.keys('run/')).some((k) => k.startsWith('run/inputs/')), 'the attachment went to the bucket');
  });
});
