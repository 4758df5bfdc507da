import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  applyAttachments,
  canonicalJson,
  ChildProcessAdapter,
  FsArtifactStore,
  InProcessAdapter,
  MemoryArtifactStore,
  Registry,
  RuntimeAdapter,
  startRuntimeProcess,
  type Adapter,
  type ArtifactStore,
  type InvokeArgs,
  type RuntimeProcess,
} from '../../src/index.js';
import { cleanEnv, HELLO_INPUTS, runCli, tempDir } from '../helpers/cli.js';
import { startOpenAiServer, type OpenAiServer } from '../helpers/openai-server.js';
import { FIXTURES, GOLDEN } from '../helpers/paths.js';
import { invocation, testRegistry } from '../helpers/runtime.js';

const golden = (name: string) => readFileSync(join(GOLDEN, name), 'utf8').trimEnd();

/** Everything a store holds, key by key: outputs and index must match too, not just the envelope. */
async function contents(store: MemoryArtifactStore): Promise<Record<string, string>> {
  const all: Record<string, string> = {};
  for (const key of store.keys()) all[key] = (await store.get(key)).toString('base64');
  return all;
}

const hello = (executionId: string) => invocation('llm/litellm@1', JSON.parse(HELLO_INPUTS).params as Record<string, unknown>, { executionId });

describe('the child-process placement gives the in-process envelope, byte for byte', () => {
  it('mock llm/litellm@1: the golden bytes, and the same stored outputs and index', async () => {
    const [viaProcess, inProcess] = [new MemoryArtifactStore(), new MemoryArtifactStore()];
    const args: InvokeArgs = { ...hello('golden-1'), adapterOpts: {} };
    const a = await new ChildProcessAdapter({ store: viaProcess, env: cleanEnv() }).invoke(args);
    const b = await new InProcessAdapter({ store: inProcess, env: cleanEnv() }).invoke(args);
    assert.equal(canonicalJson(a), canonicalJson(b));
    assert.equal(canonicalJson(a), golden('litellm-mock-hello.envelope.json'));
    assert.deepEqual(await contents(viaProcess), await contents(inProcess));
  });

  it('procctl run --placement process prints the same bytes as in-process', async () => {
    const args = ['run', '--ref', 'llm/litellm@1', '--inputs-json', HELLO_INPUTS, '--json', '--execution-id', 'golden-1'];
    const [viaProcess, inProcess] = await Promise.all([runCli([...args, '--placement', 'process']), runCli([...args, '--placement', 'in-process'])]);
    assert.equal(viaProcess.code, 0, viaProcess.stderr);
    assert.equal(viaProcess.stdout, inProcess.stdout);
    assert.equal(viaProcess.stdout.trimEnd(), golden('litellm-mock-hello.envelope.json'));
    assert.match(viaProcess.stderr, /Mock reply to "Hello"/, 'tokens stream through the protocol to stderr');
  });
});

describe('one runtime process against the in-process placement, case by case', () => {
  let runtime: RuntimeProcess;
  let provider: OpenAiServer;
  const env = () => cleanEnv({ ECHO_TOKEN: 'echo-secret-value', OPENAI_API_KEY: 'sk-test-key-123', OPENAI_BASE_URL: provider.url });
  before(async () => {
    provider = await startOpenAiServer();
    runtime = await startRuntimeProcess({ env: env(), registryDir: testRegistry() });
  });
  after(async () => {
    await runtime.stop();
    await provider.close();
  });

  /** Runs the same invocation both ways (each with its own store) and returns both envelopes' bytes. */
  async function both(args: InvokeArgs, prepare?: (store: ArtifactStore) => Promise<InvokeArgs>): Promise<[string, string]> {
    const [s1, s2] = [new FsArtifactStore(tempDir()), new FsArtifactStore(tempDir())];
    const adapters: [Adapter, ArtifactStore][] = [
      [new RuntimeAdapter({ url: runtime.url, token: runtime.token, store: s1 }), s1],
      [new InProcessAdapter({ store: s2, registryDir: testRegistry(), env: env() }), s2],
    ];
    const out: string[] = [];
    for (const [adapter, store] of adapters) out.push(canonicalJson(await adapter.invoke(prepare ? await prepare(store) : args)));
    return out as [string, string];
  }

  const cases: [string, InvokeArgs, RegExp][] = [
    ['success with nested outputs', { ...invocation('testing/echo@1', { outputs: [{ path: 'z.txt', text: 'z' }, { path: 'a/b/c.json', text: '[]' }] }, { executionId: 'x-1' }), adapterOpts: {} }, /"status":"success"/],
    ['ERR_INPUT_INVALID', { ...invocation('testing/echo@1', { nope: 1 }, { executionId: 'x-2' }), adapterOpts: {} }, /"code":"ERR_INPUT_INVALID"/],
    ['ERR_OUTPUT_DUPLICATE', { ...invocation('testing/echo@1', { outputs: [{ path: 'caf\u00e9.txt', text: 'a' }, { path: 'cafe\u0301.txt', text: 'b' }] }, { executionId: 'x-3' }), adapterOpts: {} }, /"code":"ERR_OUTPUT_DUPLICATE"/],
    ['ERR_OUTPUT_PATH', { ...invocation('testing/echo@1', { outputs: [{ path: 'a/../b', text: 'x' }] }, { executionId: 'x-4' }), adapterOpts: {} }, /"code":"ERR_OUTPUT_PATH"/],
    ['ERR_PROCESSOR_FAILED', { ...invocation('testing/echo@1', { fail: 'boom' }, { executionId: 'x-5' }), adapterOpts: {} }, /"code":"ERR_PROCESSOR_FAILED"/],
    ['ERR_PREFIX_TEMPLATE', { ...invocation('testing/echo@1', {}, { executionId: 'x-6', writePrefix: 'runs/' }), adapterOpts: {} }, /"code":"ERR_PREFIX_TEMPLATE"/],
    ['ERR_EXECUTION_ID', { ...invocation('testing/echo@1', {}, { executionId: '../up' }), adapterOpts: {} }, /"code":"ERR_EXECUTION_ID"/],
    ['ERR_MISSING_SECRET (real mode)', { ...invocation('testing/echo@1', {}, { executionId: 'x-7', mode: 'real' }), adapterOpts: {} }, /"code":"ERR_MISSING_SECRET"/],
    ['real mode with a secret, redacted', { ...invocation('testing/echo@1', { leak_secret: true, outputs: [{ path: 'o', text: 'o' }] }, { executionId: 'x-8', mode: 'real', secretsPresent: ['ECHO_TOKEN'] }), adapterOpts: {} }, /"secrets_present":\["ECHO_TOKEN"\]/],
  ];
  for (const [name, args, expected] of cases) {
    it(name, async () => {
      const [viaRuntime, inProcess] = await both(args);
      assert.match(viaRuntime, expected);
      assert.equal(viaRuntime, inProcess);
    });
  }

  it('ERR_PROCESSOR_NOT_FOUND: the same bytes whatever folder each placement keeps its registry in', async () => {
    // Two registry folders, each with an entry that has no handler; the envelope must not name either.
    const folders = [tempDir(), tempDir()];
    const echoYaml = readFileSync(join(testRegistry(), 'testing-echo-v1', 'registry.yaml'), 'utf8');
    for (const dir of folders) {
      mkdirSync(join(dir, 'testing-bare-v1'));
      writeFileSync(join(dir, 'testing-bare-v1', 'registry.yaml'), echoYaml.replace('ref: testing/echo@1', 'ref: testing/bare@1'));
    }
    const args: InvokeArgs = {
      processorRef: 'testing/bare@1',
      inputsJson: { schema: 'v1', mode: 'mock', params: {} },
      writePrefix: 'executions/{execution_id}/',
      executionId: 'x-9',
      registrySnapshot: new Registry(folders[0]).snapshot('testing/bare@1'),
      secretsPresent: [],
      adapterOpts: {},
    };
    const elsewhere = await startRuntimeProcess({ env: env(), registryDir: folders[0] as string });
    try {
      const viaRuntime = canonicalJson(await new RuntimeAdapter({ url: elsewhere.url, token: elsewhere.token, store: new MemoryArtifactStore() }).invoke(args));
      const inProcess = canonicalJson(await new InProcessAdapter({ store: new MemoryArtifactStore(), registryDir: folders[1] as string, env: env() }).invoke(args));
      assert.match(viaRuntime, /"code":"ERR_PROCESSOR_NOT_FOUND"/);
      assert.equal(viaRuntime, inProcess);
      for (const dir of folders) assert.ok(!viaRuntime.includes(dir), 'no registry folder in the envelope');
    } finally {
      await elsewhere.stop();
    }
  });

  it('real llm/litellm@1 against a loopback provider', async () => {
    const args = { ...invocation('llm/litellm@1', { messages: [{ role: 'user', content: 'Hi' }] }, { executionId: 'real-1', mode: 'real', secretsPresent: ['OPENAI_API_KEY'] }), adapterOpts: {} };
    const [viaRuntime, inProcess] = await both(args);
    assert.match(viaRuntime, /"status":"success"/);
    assert.equal(viaRuntime, inProcess);
    assert.equal(provider.requests.at(-1)?.authorization, 'Bearer sk-test-key-123', 'the runtime used the secret from its own environment');
  });

  it('attachments: the golden bytes of the CLI attachment run', async () => {
    const inputs = JSON.parse('{"schema":"v1","mode":"mock","params":{"messages":[{"content":[{"$attach":"image"},"what is this?",{"$attach":"image"}]},{"role":"user","content":[{"$attach":"notes"}]}]}}');
    const specs = [{ name: 'image', file: join(FIXTURES, 'photo.png') }, { name: 'notes', file: join(FIXTURES, 'notes.txt') }];
    const prepare = async (store: ArtifactStore): Promise<InvokeArgs> => ({ ...invocation('llm/litellm@1', {}, { executionId: 'attach-1' }), inputsJson: await applyAttachments(inputs, specs, store), adapterOpts: {} });
    const [viaRuntime, inProcess] = await both({} as InvokeArgs, prepare);
    assert.equal(viaRuntime, inProcess);
    assert.equal(viaRuntime, golden('litellm-mock-attach.envelope.json'));
  });
});
