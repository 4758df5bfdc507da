/**
 * docs/protocol.md promises a runtime in another language can be written from the page alone. This
 * drives test/fixtures/python-runtime/runtime.py (a Python runtime written that way, serving
 * testing/echo@1 natively) with the real control-plane client, and holds its envelopes to the
 * in-process placement's bytes.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import mime from 'mime/lite';
import standardTypes from 'mime/types/standard.js';
import {
  applyAttachments,
  canonicalJson,
  contentId,
  InProcessAdapter,
  MemoryArtifactStore,
  RuntimeAdapter,
  RuntimeClient,
  type ArtifactStore,
  type Envelope,
  type ErrorEnvelope,
  type InputsV1,
  type InvokeArgs,
  type ProcctlError,
  type ProcessorEvent,
} from '../../src/index.js';
import { cleanEnv, tempDir } from '../helpers/cli.js';
import { FIXTURE_REGISTRY, FIXTURES } from '../helpers/paths.js';
import { invocation, invokeFrame, rawClient, type Closed, type RawClient } from '../helpers/runtime.js';

const PYTHON = '/usr/bin/python3';
const RUNTIME_PY = join(FIXTURES, 'python-runtime', 'runtime.py');
const DIGEST = `sha256:${'cd'.repeat(32)}`;
/** The echo processor's declared secret, in both placements' environments (real-mode cases). */
const SECRETS = { ECHO_TOKEN: 'echo-secret-value' };

/** Why the Python runtime cannot run here, if it cannot. */
function pythonMissing(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import websockets'], { encoding: 'utf8' });
  if (probe.status === 0) return undefined;
  return `${PYTHON} cannot import websockets (${probe.error?.message ?? probe.stderr.trim().split('\n').at(-1) ?? 'no output'}); install the Debian package python3-websockets`;
}
const missing = pythonMissing();
// Project rule: a missing tool may skip a test only outside CI, and the skip says why; in CI the
// suite runs and fails on it.
const skip = missing !== undefined && !process.env['CI'] ? missing : false;

interface PythonRuntime {
  child: ChildProcess;
  url: string;
  token: string;
  stdout: string[];
  stderr: () => string;
}

/** Starts runtime.py on a free loopback port with a fresh token, and reads its listening line. */
async function startPythonRuntime(): Promise<PythonRuntime> {
  const token = randomBytes(24).toString('hex');
  const child = spawn(PYTHON, [RUNTIME_PY], {
    // A queue of 1, so the section 7 test reaches ERR_RUNTIME_BUSY with few runs.
    env: cleanEnv({ ...SECRETS, PROCCTL_RUNTIME_TOKEN: token, PROCCTL_RUNTIME_PORT: '0', PROCCTL_IMAGE_DIGEST: DIGEST, PROCCTL_RUNTIME_QUEUE: '1' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const err: Buffer[] = [];
  child.stderr?.on('data', (c: Buffer) => err.push(c));
  const stderr = () => Buffer.concat(err).toString('utf8');
  const stdout: string[] = [];
  const listening = await new Promise<{ event: string; host: string; port: number; protocol: string; pid: number }>((resolve, reject) => {
    let buffered = '';
    child.stdout?.on('data', (c: Buffer) => {
      buffered += c.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        stdout.push(line);
        if (stdout.length === 1) resolve(JSON.parse(line));
      }
    });
    child.once('exit', (code) => reject(new Error(`runtime.py exited with ${code} before listening:\n${stderr()}`)));
    child.once('error', reject);
  });
  assert.deepEqual(listening, { event: 'listening', host: '127.0.0.1', port: listening.port, protocol: 'procctl.run.v1', pid: child.pid });
  assert.ok(listening.port > 0);
  return { child, url: `http://127.0.0.1:${listening.port}`, token, stdout, stderr };
}

function joinTokens(events: ProcessorEvent[]): ProcessorEvent[] {
  const out: ProcessorEvent[] = [];
  for (const e of events) {
    const last = out.at(-1);
    if (e.kind === 'token' && last?.kind === 'token') out[out.length - 1] = { kind: 'token', text: last.text + e.text };
    else out.push(e);
  }
  return out;
}

/** Everything a store holds, key by key (base64), so outputs and the index are compared too. */
async function contents(store: MemoryArtifactStore): Promise<Record<string, string>> {
  const all: Record<string, string> = {};
  for (const key of store.keys()) all[key] = (await store.get(key)).toString('base64');
  return all;
}

describe('a Python runtime written from docs/protocol.md', { skip }, () => {
  let py: PythonRuntime;
  before(async () => {
    assert.equal(missing, undefined, `${missing ?? ''}; CI is set, so this fails rather than skips`);
    py = await startPythonRuntime();
  });
  after(async () => {
    if (!py) return; // it never started: before() has said why
    const exited = new Promise((resolve) => py.child.once('exit', (code, signal) => resolve({ code, signal })));
    py.child.kill('SIGTERM');
    assert.deepEqual(await exited, { code: 0, signal: null }, `SIGTERM exits 0 (section 9):\n${py.stderr()}`);
    assert.deepEqual(py.stdout.slice(1), [], 'nothing on stdout after the listening line');
    assert.ok(!py.stderr().includes(py.token), 'the token never appears in its output');
  });

  /**
   * The same invocation through the Python runtime and in-process, each with its own store, and
   * the events each streamed (tokens joined: a runtime may send several in one frame).
   */
  async function both(args: InvokeArgs, prepare?: (store: ArtifactStore) => Promise<InvokeArgs>) {
    const [viaPython, inProcess] = [new MemoryArtifactStore(), new MemoryArtifactStore()];
    const eventsA: ProcessorEvent[] = [];
    const eventsB: ProcessorEvent[] = [];
    const run = async (adapter: RuntimeAdapter | InProcessAdapter, store: ArtifactStore, events: ProcessorEvent[]) => {
      const call = prepare ? await prepare(store) : args;
      return adapter.invoke({ ...call, adapterOpts: { ...call.adapterOpts, onEvent: (e) => events.push(e) } });
    };
    const a = await run(new RuntimeAdapter({ url: py.url, token: py.token, store: viaPython }), viaPython, eventsA);
    const b = await run(new InProcessAdapter({ store: inProcess, registryDir: FIXTURE_REGISTRY, env: cleanEnv(SECRETS) }), inProcess, eventsB);
    assert.deepEqual(joinTokens(eventsA), joinTokens(eventsB), 'the same events');
    return { a, b, viaPython, inProcess };
  }

  const echo = (params: Record<string, unknown>, executionId: string, options: { writePrefix?: string; mode?: 'mock' | 'real'; secretsPresent?: string[] } = {}): InvokeArgs => ({
    ...invocation('testing/echo@1', params, { executionId, ...options }),
    adapterOpts: {},
  });
  const withInputs = (inputs: unknown, executionId: string): InvokeArgs => ({ ...echo({}, executionId), inputsJson: inputs as InputsV1 });

  it('mock testing/echo@1 with outputs and an attachment: the in-process bytes, and the same store', async () => {
    const notes = readFileSync(join(FIXTURES, 'notes.txt'));
    const inputs = {
      schema: 'v1',
      mode: 'mock',
      params: {
        outputs: [
          { path: 'z.txt', text: 'last' },
          { path: 'report/summary.json', text: '{"ok":true}', mime: 'application/json' },
          { path: 'big.txt', text: 'ab\u00e9\ud83d\ude00', repeat: 300000 }, // > 1 MiB: several binary frames
          { path: 'caf\u00e9/%41.txt', text: 'percent-decoded, NFC' },
        ],
        attachments: [{ $attach: 'notes' }],
      },
    } as unknown as InputsV1;
    const prepare = async (store: ArtifactStore): Promise<InvokeArgs> => ({ ...echo({}, 'py-ok-1'), inputsJson: await applyAttachments(inputs, [{ name: 'notes', file: join(FIXTURES, 'notes.txt') }], store) });
    const { a, b, viaPython, inProcess } = await both({} as InvokeArgs, prepare);
    assert.equal(a.status, 'success', canonicalJson(a));
    assert.equal(canonicalJson(a), canonicalJson(b));
    assert.deepEqual(await contents(viaPython), await contents(inProcess));

    const outputs = (a as Extract<Envelope, { status: 'success' }>).outputs;
    const byPath = new Map(outputs.map((o) => [o.path, o]));
    const prefix = 'executions/py-ok-1/outputs/';
    assert.deepEqual([...byPath.keys()], [`${prefix}attachments/0.bin`, `${prefix}big.txt`, `${prefix}café/A.txt`, `${prefix}report/summary.json`, `${prefix}z.txt`]);
    assert.deepEqual(await viaPython.get(`${prefix}attachments/0.bin`), notes, 'the attachment bytes went to the runtime and came back');
    assert.equal((await viaPython.get(`${prefix}big.txt`)).toString('utf8'), 'ab\u00e9\ud83d\ude00'.repeat(300000));
    assert.equal((await viaPython.get(`${prefix}z.txt`)).toString('utf8'), 'last');
    assert.equal(byPath.get(`${prefix}report/summary.json`)?.mime, 'application/json');
    for (const o of outputs) assert.equal(contentId(await viaPython.get(o.path)), o.cid);
    assert.ok(viaPython.keys().includes('executions/py-ok-1/outputs.json'), 'the index is written');
  });

  // Every check of section 5, and the SDK rules the envelope depends on, against in-process.
  const cases: [string, InvokeArgs, string][] = [
    ['default media types from the path', echo({ outputs: [{ path: 'txt', text: '' }, { path: 'd/json', text: '' }, { path: 'X.PNG', text: '' }, { path: 'a.tar.gz', text: '' }, { path: '.md', text: '' }] }, 'py-mime-1'), 'success'],
    ['real mode with a secret, redacted in the log', echo({ leak_secret: true, progress: true, tokens: 3, outputs: [{ path: 'o', text: 'o' }] }, 'py-real-1', { mode: 'real', secretsPresent: ['ECHO_TOKEN', 'B', 'A', 'A'] }), 'success'],
    ['inputs of another schema', withInputs({ schema: 'v2', mode: 'mock', params: {} }, 'py-inputs-1'), 'ERR_INPUT_INVALID'],
    ['inputs with a mode outside the enum', withInputs({ schema: 'v1', mode: 'fake', params: {} }, 'py-inputs-2'), 'ERR_INPUT_INVALID'],
    ['inputs without a mode', withInputs({ schema: 'v1', params: {} }, 'py-inputs-3'), 'ERR_INPUT_INVALID'],
    ['params the processor rejects', echo({ nope: 1, progress: 'yes', outputs: [{ text: 2, repeat: 0 }] }, 'py-params-1'), 'ERR_INPUT_INVALID'],
    ['real mode without the required secret', echo({}, 'py-secret-1', { mode: 'real' }), 'ERR_MISSING_SECRET'],
    ['a mock handler asking for a secret', echo({ leak_secret: true }, 'py-secret-2'), 'ERR_PROCESSOR_FAILED'],
    ['a failing handler', echo({ fail: 'boom' }, 'py-fail-1'), 'ERR_PROCESSOR_FAILED'],
    ['two outputs with one canonical path', echo({ outputs: [{ path: 'caf\u00e9.txt', text: 'a' }, { path: 'cafe\u0301.txt', text: 'b' }] }, 'py-dup-1'), 'ERR_OUTPUT_DUPLICATE'],
    ['a ".." output path', echo({ outputs: [{ path: 'a/../b', text: 'x' }] }, 'py-path-1'), 'ERR_OUTPUT_PATH'],
    ['an encoded "/" in an output path', echo({ outputs: [{ path: 'a%2Fb', text: 'x' }] }, 'py-path-2'), 'ERR_OUTPUT_PATH'],
    ['a file that is also a directory', echo({ outputs: [{ path: 'a', text: 'x' }, { path: 'a/b', text: 'y' }] }, 'py-path-3'), 'ERR_OUTPUT_PATH'],
    ['a write prefix without {execution_id}', echo({}, 'py-prefix-1', { writePrefix: 'runs/' }), 'ERR_PREFIX_TEMPLATE'],
    ['a write prefix with another placeholder', echo({}, 'py-prefix-2', { writePrefix: 'runs/{x}/{execution_id}/' }), 'ERR_PREFIX_TEMPLATE'],
    ['an absolute write prefix', echo({}, 'py-prefix-3', { writePrefix: '/runs/{execution_id}/' }), 'ERR_PREFIX_TEMPLATE'],
    ['a bad execution id', echo({}, '../up'), 'ERR_EXECUTION_ID'],
    ['a handler past timeout_s', echo({ sleep_ms: 60000 }, 'py-timeout-1'), 'ERR_TIMEOUT'],
  ];
  for (const [name, args, expected] of cases) {
    it(`${name}: ${expected}, byte for byte`, async () => {
      const { a, b } = await both(args);
      assert.equal(a.status === 'success' ? 'success' : a.error.code, expected, canonicalJson(a));
      assert.equal(canonicalJson(a), canonicalJson(b));
    });
  }

  it('an attachment whose bytes do not match its content id: ERR_ATTACHMENT, byte for byte', async () => {
    const prepare = async (store: ArtifactStore): Promise<InvokeArgs> => {
      await store.put('uploads/lie.bin', Buffer.from('these are not the bytes'), 'application/octet-stream');
      const ref = { $artifact: 'uploads/lie.bin', cid: contentId('the promised bytes'), mime: 'application/octet-stream', size_bytes: 23 };
      return { ...echo({}, 'py-attach-1'), inputsJson: { schema: 'v1', mode: 'mock', params: { attachments: [ref] } } };
    };
    const { a, b } = await both({} as InvokeArgs, prepare);
    assert.equal((a as ErrorEnvelope).error?.code, 'ERR_ATTACHMENT', canonicalJson(a));
    assert.equal(canonicalJson(a), canonicalJson(b));
  });

  it('refuses a wrong token in the handshake: ERR_RUNTIME_AUTH', async () => {
    const client = new RuntimeClient({ url: py.url, token: 'not-the-token', store: new MemoryArtifactStore() });
    await assert.rejects(client.invoke(echo({}, 'py-auth-1')), (e: ProcctlError) => e.code === 'ERR_RUNTIME_AUTH');
    const raw = await rawClient(py.url, { token: 'not-the-token' }).then(
      () => assert.fail('the handshake was accepted'),
      (e: { status: number; headers: Record<string, string>; body: string }) => e,
    );
    assert.equal(raw.status, 401);
    assert.equal(raw.headers['www-authenticate'], 'Bearer realm="procctl-runtime"');
    assert.equal(JSON.parse(raw.body).error.code, 'ERR_RUNTIME_AUTH');
  });

  it('refuses a missing or foreign subprotocol with 400 ERR_PROTOCOL', async () => {
    for (const protocol of [null, 'procctl.run.v0']) {
      const raw = await rawClient(py.url, { token: py.token, protocol }).then(
        () => assert.fail('the handshake was accepted'),
        (e: { status: number; body: string }) => e,
      );
      assert.equal(raw.status, 400, String(protocol));
      assert.equal(JSON.parse(raw.body).error.code, 'ERR_PROTOCOL');
    }
    const ok = await rawClient(py.url, { token: py.token });
    assert.equal(ok.ws.protocol, 'procctl.run.v1', 'the right token and subprotocol are accepted, and the subprotocol selected');
    ok.ws.close(1000);
    assert.equal((await ok.closed).code, 1000);
  });

  it('answers /healthz as section 2 says', async () => {
    const { a } = await both(echo({}, 'py-health-1'));
    const res = await fetch(`${py.url}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { ok: true, digest: DIGEST, protocol: 'procctl.run.v1', platform: a.meta.platform });
    const head = await fetch(`${py.url}/healthz`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '', 'HEAD has no body');
    const post = await fetch(`${py.url}/healthz`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(((await post.json()) as { error: { code: string } }).error.code, 'ERR_PROTOCOL');
    for (const path of ['/nothing-here', '/run']) {
      const missing = await fetch(`${py.url}${path}`);
      assert.equal(missing.status, 404, `${path} without an upgrade`);
      assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'ERR_PROTOCOL');
    }
  });

  it('a cancel mid-run: ERR_CANCELLED, byte for byte', async () => {
    // The handler waits for a file that never appears; the cancel goes out once its first log
    // line has arrived, so it surely lands while the handler runs.
    const never = join(tempDir(), 'never');
    const cancelled = async (adapter: RuntimeAdapter | InProcessAdapter) => {
      const controller = new AbortController();
      const args = echo({ wait_for_file: never }, 'py-cancel-1');
      return adapter.invoke({ ...args, adapterOpts: { signal: controller.signal, onEvent: () => controller.abort() } });
    };
    const a = await cancelled(new RuntimeAdapter({ url: py.url, token: py.token, store: new MemoryArtifactStore() }));
    const b = await cancelled(new InProcessAdapter({ store: new MemoryArtifactStore(), registryDir: FIXTURE_REGISTRY, env: cleanEnv() }));
    assert.equal((a as ErrorEnvelope).error?.code, 'ERR_CANCELLED', canonicalJson(a));
    assert.equal(canonicalJson(a), canonicalJson(b));
  });

  it('concurrency, then the queue, then ERR_RUNTIME_BUSY (section 7)', async () => {
    // testing/echo@1 runs 4 at a time; each of these waits for a file the test writes at the end.
    const release = join(tempDir(), 'release');
    const client = new RuntimeClient({ url: py.url, token: py.token, store: new MemoryArtifactStore() });
    // Each handler logs one line as it starts: after four of them, every slot is taken.
    let started = 0;
    let allStarted!: () => void;
    const fourStarted = new Promise<void>((resolve) => (allStarted = resolve));
    const onEvent = () => {
      if (++started === 4) allStarted();
    };
    const running = [1, 2, 3, 4].map((i) => client.invoke(echo({ wait_for_file: release, outputs: [{ path: 'o.txt', text: `run ${i}` }] }, `py-slot-${i}`), { onEvent }));
    await fourStarted;
    const queued = await rawClient(py.url, { token: py.token });
    queued.ws.send(JSON.stringify(invokeFrame(invocation('testing/echo@1', { outputs: [{ path: 'q.txt', text: 'waited' }] }, { executionId: 'py-queued-1' }))));
    assert.deepEqual(await queued.next('ack'), { kind: 'ack', execution_id: 'py-queued-1', queued: true });
    const busy = (await new RuntimeAdapter({ url: py.url, token: py.token, store: new MemoryArtifactStore() }).invoke(echo({}, 'py-busy-1'))) as ErrorEnvelope;
    assert.equal(busy.error.code, 'ERR_RUNTIME_BUSY', canonicalJson(busy));
    assert.deepEqual(busy.error.details, { running: 4, concurrency: 4, queued: 1, queue_limit: 1 });
    assert.equal(busy.error.retryable, true);
    writeFileSync(release, '');
    for (const [i, envelope] of (await Promise.all(running)).entries()) assert.equal(envelope.status, 'success', `run ${i + 1}`);
    const result = (await queued.next('result'))['envelope'] as Envelope;
    assert.equal(result.status, 'success', 'the queued run ran once a slot was free');
    queued.ws.close(1000);
    await queued.closed;
    client.close();
  });

  it('frames on the wire: ack, events, each output and its bytes, then the result', async () => {
    const client = await rawClient(py.url, { token: py.token });
    const args = invocation('testing/echo@1', { progress: true, tokens: 2, outputs: [{ path: 'b.txt', text: 'bee' }, { path: 'a.bin', text: '' }] }, { executionId: 'py-wire-1' });
    client.ws.send(JSON.stringify(invokeFrame(args)));
    await client.next('result');
    const shape = client.frames.map((f) => (Buffer.isBuffer(f) ? `<${f.toString('utf8')}>` : f['kind'] === 'output' ? `output ${String(f['path'])} ${String(f['mime'])}` : String(f['kind'])));
    assert.deepEqual(shape, ['ack', 'log', 'progress', 'token', 'token', 'output executions/py-wire-1/outputs/a.bin application/octet-stream', 'output executions/py-wire-1/outputs/b.txt text/plain', '<bee>', 'result']);
    assert.deepEqual(client.frames[0], { kind: 'ack', execution_id: 'py-wire-1', queued: false });
    assert.deepEqual(client.frames[1], { kind: 'log', level: 'info', message: 'echo mock py-wire-1' });
    assert.deepEqual(client.frames[2], { kind: 'progress', fraction: 0.5, message: 'halfway' });
    client.ws.close(1000);
    await client.closed;
  });

  it('a frame the protocol does not allow closes the connection with the code of section 6', async () => {
    const closedBy = async (send: (c: RawClient) => void): Promise<Closed> => {
      const client = await rawClient(py.url, { token: py.token });
      send(client);
      return client.closed;
    };
    const frame = invokeFrame(invocation('testing/echo@1', {}, { executionId: 'py-bad-1' }));
    delete frame['write_prefix'];
    assert.deepEqual(await closedBy((c) => c.ws.send(JSON.stringify(frame))), { code: 4004, reason: 'invoke frame: / is missing required property "write_prefix"' });
    assert.deepEqual(await closedBy((c) => c.ws.send('[1,2]')), { code: 4000, reason: 'frame is JSON but not an object' });
    assert.deepEqual(await closedBy((c) => c.ws.send('{"kind":"dance"}')), { code: 4001, reason: 'unknown frame kind "dance"; expected one of invoke, cancel' });
    assert.deepEqual(await closedBy((c) => c.ws.send(Buffer.from('x'))), { code: 4003, reason: 'binary frame where a text frame is due' });
    const withBytes = { ...invokeFrame(invocation('testing/echo@1', {}, { executionId: 'py-bad-2' })), attachments: [{ cid: contentId('abc'), size_bytes: 3 }] };
    assert.deepEqual(await closedBy((c) => (c.ws.send(JSON.stringify(withBytes)), c.ws.send('{"kind":"cancel"}'))), { code: 4002, reason: 'text frame while 3 attachment byte(s) are still due' });
  });
});

describe('the media-type table the Python runtime carries', () => {
  it('is the mime package\'s standard table, extension by extension', () => {
    const vendored = (JSON.parse(readFileSync(join(FIXTURES, 'python-runtime', 'mime-types.json'), 'utf8')) as { types: Record<string, string> }).types;
    const extensions = new Set(Object.values(standardTypes).flatMap((list) => list.map((e) => e.replace(/^\*/, '').toLowerCase())));
    const expected: Record<string, string> = {};
    for (const ext of [...extensions].sort()) expected[ext] = mime.getType(`x.${ext}`) as string;
    assert.deepEqual(vendored, expected, 'regenerate test/fixtures/python-runtime/mime-types.json from mime/lite');
  });
});
