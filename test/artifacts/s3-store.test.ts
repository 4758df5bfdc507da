import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { contentId, ProcctlError, Registry, run, S3ArtifactStore, type ArtifactStore, type ErrorEnvelope, type SuccessEnvelope } from '../../src/index.js';
import { cleanEnv, HELLO_INPUTS, runCli, tempDir, type CliResult } from '../helpers/cli.js';
import { envelopeOf, errorOf } from '../helpers/envelope.js';
import { FIXTURE_REGISTRY, FIXTURES, GOLDEN } from '../helpers/paths.js';
import { freePort, S3RVER_ACCESS_KEY_ID, s3Env, startS3rver, type S3Server } from '../helpers/s3rver.js';

const CREDENTIALS = { accessKeyId: S3RVER_ACCESS_KEY_ID, secretAccessKey: 'S3RVER' };

/** Asserts a store call failed with ERR_ARTIFACT_STORE, and returns the error to look at. */
async function storeFailure(call: Promise<unknown>): Promise<ProcctlError> {
  let caught: unknown;
  await call.then(
    () => assert.fail('expected the store call to fail'),
    (err: unknown) => (caught = err),
  );
  assert.ok(caught instanceof ProcctlError, `a ProcctlError, not ${String(caught)}`);
  assert.equal(caught.code, 'ERR_ARTIFACT_STORE');
  assert.doesNotMatch(caught.message, /\n/, 'one line, no stack or request dump');
  return caught;
}

describe('S3ArtifactStore against s3rver', () => {
  let server: S3Server;
  const storeAt = (location: string, endpoint = server.endpoint, credentials = CREDENTIALS) => new S3ArtifactStore(location, { endpoint, credentials });

  before(async () => {
    server = await startS3rver();
  });
  after(() => server.stop());

  it('round-trips binary, empty and 5 MB objects byte for byte, with their media type', async () => {
    const store = storeAt('s3://procctl/roundtrip');
    const objects: Array<[string, Buffer, string]> = [
      ['every-byte.bin', Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(4096)]), 'application/octet-stream'],
      ['empty.txt', Buffer.alloc(0), 'text/plain'],
      ['big/five-mb.bin', randomBytes(5 * 1024 * 1024), 'application/octet-stream'],
    ];
    for (const [key, bytes, mime] of objects) {
      assert.equal(await store.has(key), false, `${key} absent before put`);
      await store.put(key, bytes, mime);
      assert.equal(await store.has(key), true, `${key} present after put`);
      const back = await store.get(key);
      assert.equal(back.byteLength, bytes.byteLength, key);
      assert.ok(back.equals(bytes), `${key} comes back with the same bytes`);
      const outside = await server.object(`roundtrip/${key}`);
      assert.ok(outside.bytes.equals(bytes), `${key} is stored as is (no checksum framing)`);
      assert.equal(outside.contentType, mime);
    }
    const replacement = Buffer.from('second version');
    await store.put('empty.txt', replacement, 'text/plain');
    assert.ok((await store.get('empty.txt')).equals(replacement), 'a put replaces the object');
  });

  it('stores keys with unicode and spaces under their canonical path', async () => {
    const store = storeAt('s3://procctl/unicode');
    const bytes = Buffer.from('r\u00e9sum\u00e9 \u2603');
    // NFD "é", a percent-escaped "ï", doubled spaces and a "//": one canonical key.
    await store.put('reports/cafe\u0301 menu//na%C3%AFve  r\u00e9sum\u00e9.txt', bytes, 'text/plain');
    const canonical = 'reports/caf\u00e9 menu/na\u00efve  r\u00e9sum\u00e9.txt';
    assert.deepEqual(await server.keys('unicode/'), [`unicode/${canonical}`]);
    assert.ok((await store.get(canonical)).equals(bytes));
    assert.equal(await store.has('reports/cafe\u0301 menu/na\u00efve  re\u0301sume\u0301.txt'), true, 'any spelling of the same path finds it');
  });

  it('places keys under the prefix, and at the bucket root without one', async () => {
    const nested = storeAt('s3://procctl/team//runs/');
    assert.equal(nested.location, 's3://procctl/team/runs');
    await nested.put('x/y.txt', Buffer.from('y'), 'text/plain');
    assert.deepEqual(await server.keys('team/'), ['team/runs/x/y.txt']);
    assert.equal(await storeAt('s3://procctl/team').has('runs/x/y.txt'), true, 'a shorter prefix sees the same object');
    assert.equal(await storeAt('s3://procctl/other').has('x/y.txt'), false, 'another prefix does not');

    const root = storeAt('s3://procctl');
    assert.equal(root.location, 's3://procctl');
    await root.put('root-key.txt', Buffer.from('r'), 'text/plain');
    assert.deepEqual(await server.keys('root-key'), ['root-key.txt']);
  });

  it('reports a missing key as ERR_ARTIFACT_STORE naming the key and the store', async () => {
    const store = storeAt('s3://procctl/missing');
    assert.equal(await store.has('nope.txt'), false);
    const err = await storeFailure(store.get('nope.txt'));
    assert.equal(err.message, 'cannot read nope.txt in s3://procctl/missing: no such key (HTTP 404)');
    assert.deepEqual(err.details, { key: 'nope.txt', store: 's3://procctl/missing', reason: 'no such key (HTTP 404)', http_status: 404 });
  });

  it('reports a bucket that does not exist as a store error that retrying will not fix', async () => {
    const err = await storeFailure(storeAt('s3://no-such-bucket/p').put('a.txt', Buffer.from('a'), 'text/plain'));
    assert.match(err.message, /^cannot write a\.txt in s3:\/\/no-such-bucket\/p: the bucket does not exist \(NoSuchBucket, HTTP 404\)$/);
    assert.equal(err.retryable, false);
  });

  it('keeps rejected credentials out of the message and details', async () => {
    const canary = { accessKeyId: `AKIA${randomUUID()}`, secretAccessKey: `secret-${randomUUID()}` };
    const err = await storeFailure(storeAt('s3://procctl/creds', server.endpoint, canary).put('a.txt', Buffer.from('a'), 'text/plain'));
    assert.match(err.message, /InvalidAccessKeyId \(HTTP 403\)/);
    assert.equal(err.retryable, false);
    const shown = `${err.message} ${JSON.stringify(err.details)}`;
    assert.ok(!shown.includes(canary.accessKeyId) && !shown.includes(canary.secretAccessKey), shown);
  });

  it('fails put, get and has with a retryable error when nothing listens at the endpoint', async () => {
    const port = await freePort();
    const store = storeAt('s3://procctl/down', `http://127.0.0.1:${port}`);
    for (const [op, call] of [
      ['write', () => store.put('a.txt', Buffer.from('a'), 'text/plain')],
      ['read', () => store.get('a.txt')],
      ['check', () => store.has('a.txt')],
    ] as const) {
      const err = await storeFailure(call());
      assert.equal(err.message, `cannot ${op} a.txt in s3://procctl/down: endpoint unreachable (ECONNREFUSED 127.0.0.1:${port})`);
      assert.equal(err.retryable, true);
    }
  });
});

describe('procctl run --artifacts s3://…', () => {
  const hello = (id: string) => ['run', '--ref', 'llm/litellm@1', '--inputs-json', HELLO_INPUTS, '--json', '--execution-id', id];
  // s3rver accepts any secret, so the secret can be a canary that must never be printed.
  const secret = `s3-canary-${randomUUID()}`;
  let server: S3Server;
  let env: NodeJS.ProcessEnv;

  const assertQuiet = (result: CliResult) => {
    for (const [stream, text] of [['stdout', result.stdout], ['stderr', result.stderr]] as const) {
      assert.ok(!text.includes(secret), `the secret appears on ${stream}`);
    }
    assert.doesNotMatch(result.stderr, /NodeVersionSupportWarning/, 'no SDK support-policy warning on stderr');
  };

  before(async () => {
    server = await startS3rver();
    env = cleanEnv(s3Env(server.endpoint, secret));
  });
  after(() => server.stop());

  it('gives the envelope bytes of the filesystem store and puts outputs and index in the bucket', async () => {
    const fsCwd = tempDir();
    const [viaS3, viaFs] = await Promise.all([runCli([...hello('golden-1'), '--artifacts', 's3://procctl/ci'], { env }), runCli(hello('golden-1'), { cwd: fsCwd })]);
    assert.equal(viaS3.code, 0, viaS3.stderr);
    assertQuiet(viaS3);
    assert.equal(viaS3.stdout, viaFs.stdout, 'the envelope does not depend on the store');
    assert.equal(viaS3.stdout, readFileSync(join(GOLDEN, 'litellm-mock-hello.envelope.json'), 'utf8'));

    const envelope = envelopeOf(viaS3) as SuccessEnvelope;
    const run = 'ci/executions/golden-1/';
    // The run's records (src/runs/layout.ts) sit beside the outputs.
    assert.deepEqual(await server.keys(run), [`${run}envelope.json`, `${run}events.jsonl`, `${run}heartbeat.json`, `${run}inputs.json`, `${run}outputs.json`, `${run}outputs/response.json`, `${run}outputs/text/response.txt`, `${run}receipt.json`, `${run}run.json`]);
    const fsRoot = join(fsCwd, '.procctl/artifacts');
    for (const output of envelope.outputs) {
      const { bytes, contentType } = await server.object(`ci/${output.path}`);
      assert.equal(contentId(bytes), output.cid, output.path);
      assert.equal(bytes.byteLength, output.size_bytes, output.path);
      assert.equal(contentType, output.mime, output.path);
      assert.ok(bytes.equals(readFileSync(join(fsRoot, output.path))), `${output.path} has the filesystem store's bytes`);
    }
    const index = (await server.object(`ci/${envelope.index_path}`)).bytes;
    assert.ok(index.equals(readFileSync(join(fsRoot, envelope.index_path))), 'the index has the filesystem store\'s bytes');
    assert.equal((await server.object(`${run}envelope.json`)).bytes.toString('utf8'), viaS3.stdout.trimEnd(), 'the recorded envelope is the printed one');
  });

  it('stores attachments in the bucket (PROCCTL_ARTIFACTS) and reads them back into the pinned envelope', async () => {
    const inputs = '{"schema":"v1","params":{"messages":[{"content":[{"$attach":"image"},"what is this?",{"$attach":"image"}]},{"role":"user","content":[{"$attach":"notes"}]}]}}';
    const photo = join(FIXTURES, 'photo.png');
    const args = ['run', '--ref', 'llm/litellm@1', '--attach', `image=${photo}`, '--attach', `notes=${join(FIXTURES, 'notes.txt')}`, '--inputs-json', inputs, '--json', '--execution-id', 'attach-1'];
    const result = await runCli(args, { env: { ...env, PROCCTL_ARTIFACTS: 's3://procctl/attach' } });
    assert.equal(result.code, 0, result.stderr);
    assertQuiet(result);
    assert.equal(result.stdout, readFileSync(join(GOLDEN, 'litellm-mock-attach.envelope.json'), 'utf8'));
    const photoBytes = readFileSync(photo);
    const stored = await server.keys('attach/inputs/');
    assert.equal(stored.length, 2, 'each attachment stored once, by content id');
    const photoKey = `attach/inputs/${contentId(photoBytes).replace(':', '/')}`;
    assert.ok(stored.includes(photoKey), stored.join(', '));
    assert.ok((await server.object(photoKey)).bytes.equals(photoBytes));
  });

  it('fails with ERR_ARTIFACT_STORE, exit 6, when nothing listens at the endpoint', async () => {
    const port = await freePort();
    const result = await runCli([...hello('down-1'), '--artifacts', 's3://procctl/down'], { env: cleanEnv(s3Env(`http://127.0.0.1:${port}`, secret)) });
    const error = errorOf(result, 'ERR_ARTIFACT_STORE', 6);
    assert.equal(error.message, `cannot write executions/down-1/outputs/response.json in s3://procctl/down: endpoint unreachable (ECONNREFUSED 127.0.0.1:${port})`);
    assert.equal(error.retryable, true);
    assertQuiet(result);
  });

  it('writes nothing, index included, to a bucket whose server is stopped', async () => {
    const stopped = await startS3rver();
    await stopped.stop();
    const result = await runCli([...hello('stopped-1'), '--artifacts', 's3://procctl/stopped'], { env: cleanEnv(s3Env(stopped.endpoint, secret)) });
    errorOf(result, 'ERR_ARTIFACT_STORE', 6);
    assertQuiet(result);
    const revived = await startS3rver('procctl', stopped.directory);
    try {
      assert.deepEqual(await revived.keys('stopped/'), []);
    } finally {
      await revived.stop();
    }
  });

  it('leaves no index when s3rver dies between two outputs', async () => {
    const dying = await startS3rver();
    const s3 = new S3ArtifactStore('s3://procctl/mid', { endpoint: dying.endpoint, credentials: CREDENTIALS });
    let outputsWritten = 0;
    // The real store, with the server stopped right after the first output lands.
    const store: ArtifactStore = {
      location: s3.location,
      has: (key) => s3.has(key),
      get: (key) => s3.get(key),
      async put(key, bytes, mime) {
        await s3.put(key, bytes, mime);
        if (key.includes('/outputs/') && ++outputsWritten === 1) await dying.stop();
      },
    };
    const { envelope } = await run({
      ref: 'testing/echo@1',
      inputs: { schema: 'v1', params: { outputs: [{ path: 'a.txt', text: 'A' }, { path: 'b.txt', text: 'B' }] } },
      mode: 'mock',
      executionId: 'mid-1',
      store,
      registry: Registry.fromOptions(FIXTURE_REGISTRY),
    });
    assert.equal(envelope.status, 'error');
    const { error } = envelope as ErrorEnvelope;
    assert.equal(error.code, 'ERR_ARTIFACT_STORE');
    assert.match(error.message, /^cannot write executions\/mid-1\/outputs\/b\.txt in s3:\/\/procctl\/mid: endpoint unreachable \(E[A-Z]+/);
    assert.equal(error.retryable, true);
    const revived = await startS3rver('procctl', dying.directory);
    try {
      const keys = await revived.keys('mid/');
      assert.deepEqual(keys.filter((k) => k.includes('/outputs')), ['mid/executions/mid-1/outputs/a.txt'], 'the first output only: no second output, no index');
      // What the run recorded before the store died: its start, and the run listed as running.
      assert.deepEqual(keys.filter((k) => !k.includes('/outputs')).map((k) => k.replace(/\/runs\/\d{13}~/, '/runs/T~')), ['mid/executions/mid-1/heartbeat.json', 'mid/executions/mid-1/inputs.json', 'mid/executions/mid-1/run.json', 'mid/index/ids/mid-1', 'mid/index/runs/T~running~mock~-~dGVzdGluZy9lY2hvQDE~mid-1']);
    } finally {
      await revived.stop();
    }
  });
});
