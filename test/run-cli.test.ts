import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SuccessEnvelope } from '../src/index.js';
import { cleanEnv, HELLO_INPUTS, runCli, signalWhen, tempDir } from './helpers/cli.js';
import { envelopeOf, errorOf } from './helpers/envelope.js';
import { filesUnder } from './helpers/files.js';
import { startOpenAiServer, type OpenAiServer } from './helpers/openai-server.js';
import { FIXTURE_REGISTRY, FIXTURES, GOLDEN } from './helpers/paths.js';

const LITELLM = ['run', '--ref', 'llm/litellm@1'];

/** Files under a directory, relative, sorted: "nothing half-written" is checked against this. */
function assertGolden(name: string, bytes: string): void {
  const file = join(GOLDEN, name);
  if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(file, bytes);
  assert.ok(existsSync(file), `golden file ${name} is missing (UPDATE_GOLDEN=1 writes it)`);
  assert.equal(bytes, readFileSync(file, 'utf8'), `envelope bytes moved from test/golden/${name}`);
}

describe('procctl run, mock mode, in-process', () => {
  it('answers the README main command with a success envelope and stored outputs', async () => {
    const cwd = tempDir();
    const result = await runCli([...LITELLM, '--inputs-json', HELLO_INPUTS, '--json', '--execution-id', 'readme-1'], { cwd });
    assert.equal(result.code, 0, result.stderr);
    const envelope = envelopeOf(result) as SuccessEnvelope;
    assert.equal(envelope.status, 'success');
    assert.deepEqual(envelope.outputs.map((o) => o.path), ['executions/readme-1/outputs/response.json', 'executions/readme-1/outputs/text/response.txt']);
    const root = join(cwd, '.procctl', 'artifacts');
    const reply = readFileSync(join(root, 'executions/readme-1/outputs/text/response.txt'), 'utf8');
    assert.match(reply, /^Mock reply to "Hello"/);
    const response = JSON.parse(readFileSync(join(root, 'executions/readme-1/outputs/response.json'), 'utf8')) as { usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } };
    assert.equal(response.usage.total_tokens, response.usage.prompt_tokens + response.usage.completion_tokens);
    const index = JSON.parse(readFileSync(join(root, envelope.index_path), 'utf8')) as { outputs: unknown };
    assert.deepEqual(index.outputs, envelope.outputs, 'the index lists exactly the envelope outputs');
    assert.match(result.stderr, /Mock reply/, 'tokens stream on stderr');
    assert.ok(existsSync(join(root, 'executions/readme-1/receipt.json')), 'timings go to a receipt beside the outputs');
  });

  it('gives identical envelope bytes across processes and pins them in a golden file', async () => {
    const args = [...LITELLM, '--inputs-json', HELLO_INPUTS, '--json', '--execution-id', 'golden-1'];
    const [a, b] = await Promise.all([runCli(args), runCli(args, { env: cleanEnv({ OPENAI_API_KEY: 'sk-not-used-in-mock' }) })]);
    assert.equal(a.stdout, b.stdout, 'same bytes whatever the shell exports');
    assertGolden('litellm-mock-hello.envelope.json', a.stdout);
    assert.doesNotMatch(a.stdout, /sk-not-used|\d{4}-\d{2}-\d{2}T|"pid"|"host/);
  });

  it('reads the same inputs from a file and from stdin, with the same envelope', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'inputs.json'), HELLO_INPUTS);
    const viaFile = await runCli([...LITELLM, '--inputs-file', join(dir, 'inputs.json'), '--json', '--execution-id', 'same']);
    const viaStdin = await runCli([...LITELLM, '--inputs', '-', '--json', '--execution-id', 'same'], { input: HELLO_INPUTS });
    const viaFlag = await runCli([...LITELLM, '--inputs-json', HELLO_INPUTS, '--json', '--execution-id', 'same']);
    assert.equal(viaFile.code, 0, viaFile.stderr);
    assert.equal(viaFile.stdout, viaStdin.stdout);
    assert.equal(viaFile.stdout, viaFlag.stdout);
  });

  it('attaches files, in arrays too, content-addressed, with pinned envelope bytes', async () => {
    const cwd = tempDir();
    const inputs = '{"schema":"v1","params":{"messages":[{"content":[{"$attach":"image"},"what is this?",{"$attach":"image"}]},{"role":"user","content":[{"$attach":"notes"}]}]}}';
    const args = [...LITELLM, '--attach', `image=${join(FIXTURES, 'photo.png')}`, '--attach', `notes=${join(FIXTURES, 'notes.txt')}`, '--inputs-json', inputs, '--json', '--execution-id', 'attach-1'];
    const result = await runCli(args, { cwd });
    assert.equal(result.code, 0, result.stderr);
    assertGolden('litellm-mock-attach.envelope.json', result.stdout);
    const stored = filesUnder(join(cwd, '.procctl/artifacts/inputs'));
    assert.equal(stored.length, 2, 'each attachment stored once, by content id');
    assert.ok(stored.every((f) => /^sha256\/[0-9a-f]{64}$/.test(f)));
    const reply = readFileSync(join(cwd, '.procctl/artifacts/executions/attach-1/outputs/text/response.txt'), 'utf8');
    assert.match(reply, /\[text\/plain attachment, 42 bytes, sha256:[0-9a-f]{64}\]/);
    assert.match(reply, /read image\/png \d+ B, image\/png \d+ B, text\/plain 42 B,/);
  });

  it('prints a readable summary without --json', async () => {
    const result = await runCli([...LITELLM, '--inputs-json', HELLO_INPUTS, '--execution-id', 'human']);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^ok llm\/litellm@1 \(mock\) execution human$/m);
    assert.match(result.stdout, /output +executions\/human\/outputs\/text\/response\.txt +text\/plain/);
  });
});

describe('procctl run, bad inputs', () => {
  const run = (args: string[], input?: string | Buffer) => runCli([...LITELLM, '--json', ...args], input === undefined ? {} : { input });

  it('needs exactly one inputs source', async () => {
    const none = await run([]);
    assert.match(errorOf(none, 'ERR_USAGE', 2).message, /exactly one of --inputs-json/);
    const two = await run(['--inputs-json', HELLO_INPUTS, '--inputs', '-'], HELLO_INPUTS);
    assert.match(errorOf(two, 'ERR_USAGE', 2).message, /--inputs-json and --inputs were both given/);
    const notDash = await run(['--inputs', 'file.json']);
    assert.match(errorOf(notDash, 'ERR_USAGE', 2).message, /use --inputs-file file\.json/);
  });

  it('rejects invalid JSON, a wrong schema version and bad params, saying where', async () => {
    assert.match(errorOf(await run(['--inputs-json', '{"schema":"v1",']), 'ERR_INPUT_INVALID', 3).message, /--inputs-json are not valid JSON/);
    assert.match(errorOf(await run(['--inputs-json', '{"schema":"v2","params":{}}']), 'ERR_INPUT_INVALID', 3).message, /schema "v2"; this procctl reads schema "v1"/);
    const params = errorOf(await run(['--inputs-json', '{"schema":"v1","params":{"messages":[{"role":"robot","content":"x"}]}}']), 'ERR_INPUT_INVALID', 3);
    assert.match(params.message, /params\/messages\/0\/role must be one of \["system","user","assistant","tool"\]/);
    assert.match(errorOf(await run(['--inputs-json', '{"schema":"v1","params":{"messages":[]}}']), 'ERR_INPUT_INVALID', 3).message, /params\/messages must NOT have fewer than 1 items/);
  });

  it('refuses a 50 MB input from a file and from stdin, holding nothing', async () => {
    const dir = tempDir();
    const big = `{"schema":"v1","params":{"messages":[{"content":"${'x'.repeat(50 * 1024 * 1024)}"}]}}`;
    writeFileSync(join(dir, 'big.json'), big);
    const cwd = tempDir();
    const fromFile = await runCli([...LITELLM, '--json', '--inputs-file', join(dir, 'big.json')], { cwd });
    assert.match(errorOf(fromFile, 'ERR_INPUT_TOO_LARGE', 3).message, /52428\d\d\d bytes; the limit is 8388608 bytes/);
    const fromStdin = await runCli([...LITELLM, '--json', '--inputs', '-'], { cwd, input: big });
    assert.match(errorOf(fromStdin, 'ERR_INPUT_TOO_LARGE', 3).message, /stdin are more than 8388608 bytes/);
    assert.deepEqual(filesUnder(join(cwd, '.procctl')), [], 'nothing written');
  });

  it('refuses a file that is not UTF-8', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'latin1.json'), Buffer.from('{"schema":"v1","params":{"messages":[{"content":"caf\xe9"}]}}', 'latin1'));
    const result = await run(['--inputs-file', join(dir, 'latin1.json')]);
    assert.match(errorOf(result, 'ERR_INPUT_ENCODING', 3).message, /latin1\.json are not valid UTF-8 \(at byte 52\)/);
  });

  it('reports attachment mistakes clearly', async () => {
    const withImage = '{"schema":"v1","params":{"messages":[{"content":[{"$attach":"image"}]}]}}';
    assert.match(errorOf(await run(['--inputs-json', withImage]), 'ERR_ATTACHMENT', 3).message, /inputs\/params\/messages\/0\/content\/0 refers to attachment "image", but no --attach image=PATH was given/);
    assert.match(errorOf(await run(['--inputs-json', withImage, '--attach', 'image=/nonexistent/photo.jpg']), 'ERR_ATTACHMENT', 3).message, /attachment image \(\/nonexistent\/photo\.jpg\) does not exist/);
    assert.match(errorOf(await run(['--inputs-json', withImage, '--attach', `image=${FIXTURES}`]), 'ERR_ATTACHMENT', 3).message, /is a directory/);
    assert.match(errorOf(await run(['--inputs-json', HELLO_INPUTS, '--attach', `image=${join(FIXTURES, 'photo.png')}`]), 'ERR_ATTACHMENT', 3).message, /--attach image=… is not used/);
    assert.match(errorOf(await run(['--inputs-json', withImage, '--attach', 'image']), 'ERR_USAGE', 2).message, /is not NAME=PATH/);
    assert.match(errorOf(await run(['--inputs-json', '{"schema":"v1","params":{"messages":[{"content":[{"$attach":"image","x":1}]}]}}']), 'ERR_INPUT_INVALID', 3).message, /not a placeholder of the form/);
  });

  it('rejects bad references, execution ids and write prefixes with typed errors', async () => {
    const badRef = await runCli(['run', '--ref', 'llm/litellm', '--json', '--inputs-json', HELLO_INPUTS]);
    assert.match(errorOf(badRef, 'ERR_REF_INVALID', 3).message, /write llm\/litellm@1/);
    const missing = await runCli(['run', '--ref', 'llm/nothing@1', '--json', '--inputs-json', HELLO_INPUTS]);
    errorOf(missing, 'ERR_PROCESSOR_NOT_FOUND', 4);
    errorOf(await run(['--inputs-json', HELLO_INPUTS, '--execution-id', '../../etc']), 'ERR_EXECUTION_ID', 3);
    assert.match(errorOf(await run(['--inputs-json', HELLO_INPUTS, '--write-prefix', 'runs/']), 'ERR_PREFIX_TEMPLATE', 3).message, /lacks \{execution_id\}/);
    assert.match(errorOf(await run(['--inputs-json', HELLO_INPUTS, '--write-prefix', 'runs/{id}/']), 'ERR_PREFIX_TEMPLATE', 3).message, /unknown placeholder \{id\}/);
  });

  it('turns commander usage errors into exit 2 with a hint', async () => {
    const result = await runCli(['run', '--ref', 'llm/litellm@1', '--mode', 'fast', '--inputs-json', HELLO_INPUTS]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--mode <mode>' argument 'fast' is invalid. Allowed choices are mock, real/);
  });

  it('has --help on every command', async () => {
    for (const args of [['--help'], ['run', '--help'], ['registry', '--help'], ['registry', 'list', '--help'], ['registry', 'show', '--help'], ['registry', 'validate', '--help'], ['schema', '--help']]) {
      const result = await runCli(args);
      assert.equal(result.code, 0, args.join(' '));
      assert.match(result.stdout, /^Usage: procctl/m, args.join(' '));
    }
  });
});

describe('procctl run, outputs and limits (fixture processor)', () => {
  const echo = (params: object, extra: string[] = [], env = cleanEnv()) =>
    runCli(['run', '--ref', 'testing/echo@1', '--registry', FIXTURE_REGISTRY, '--json', '--execution-id', 'x1', '--inputs-json', JSON.stringify({ schema: 'v1', params }), ...extra], { env, cwd: tempDir() });

  it('fails with ERR_OUTPUT_DUPLICATE for NFC/NFD twins and writes nothing', async () => {
    const cwd = tempDir();
    const result = await runCli(['run', '--ref', 'testing/echo@1', '--registry', FIXTURE_REGISTRY, '--json', '--execution-id', 'dup', '--inputs-json', JSON.stringify({ schema: 'v1', params: { outputs: [{ path: 'caf\u00e9.txt', text: 'a' }, { path: 'cafe\u0301.txt', text: 'b' }] } })], { cwd });
    const error = errorOf(result, 'ERR_OUTPUT_DUPLICATE', 6);
    assert.equal(error.details?.['path'], 'caf\u00e9.txt');
    assert.deepEqual(filesUnder(join(cwd, '.procctl/artifacts/executions/dup')).filter((f) => f.startsWith('outputs')), []);
  });

  it('fails with ERR_OUTPUT_PATH for escaping, encoded and overlong paths', async () => {
    for (const [path, reason] of [['a/../b', /"\.\." segment/], ['a%2Fb', /encodes a "\/"/], ['p'.repeat(2000), /2000 characters\) has a segment longer than 255 bytes/]] as const) {
      const error = errorOf(await echo({ outputs: [{ path: 'ok.txt', text: 'fine' }, { path, text: 'x' }] }), 'ERR_OUTPUT_PATH', 6);
      assert.match(error.message, reason);
    }
  });

  it('stops a processor past its timeout_s with ERR_TIMEOUT', async () => {
    const error = errorOf(await echo({ sleep_ms: 3000, outputs: [{ path: 'late.txt', text: 'x' }] }), 'ERR_TIMEOUT', 8);
    assert.match(error.message, /longer than its limit of 1s/);
    assert.equal(error.retryable, true);
  });

  it('cancels the run on SIGINT: ERR_CANCELLED, exit 8, no outputs', async () => {
    const cwd = tempDir();
    const interrupt = signalWhen('echo mock sigint');
    const result = await runCli(['run', '--ref', 'testing/echo@1', '--registry', FIXTURE_REGISTRY, '--json', '--execution-id', 'sigint', '--inputs-json', JSON.stringify({ schema: 'v1', params: { sleep_ms: 900, outputs: [{ path: 'late.txt', text: 'x' }] } })], { cwd, onStderr: interrupt.onStderr });
    assert.ok(interrupt.sent, 'the run started');
    assert.match(errorOf(result, 'ERR_CANCELLED', 8).message, /execution sigint was cancelled/);
    assert.equal(existsSync(join(cwd, '.procctl/artifacts/executions/sigint/outputs')), false);
  });

  it('reports a throwing handler as ERR_PROCESSOR_FAILED', async () => {
    assert.match(errorOf(await echo({ fail: 'boom' }), 'ERR_PROCESSOR_FAILED', 10).message, /testing\/echo@1 failed: boom/);
  });

  it('checks required secrets before anything runs in real mode, naming only names', async () => {
    const cwd = tempDir();
    const result = await runCli(['run', '--ref', 'testing/echo@1', '--registry', FIXTURE_REGISTRY, '--mode', 'real', '--placement', 'in-process', '--json', '--execution-id', 'nosecret', '--inputs-json', JSON.stringify({ schema: 'v1', params: { outputs: [{ path: 'a', text: 'a' }] } })], { cwd });
    const error = errorOf(result, 'ERR_MISSING_SECRET', 5);
    assert.deepEqual(error.details, { missing: ['ECHO_TOKEN'] });
    assert.equal(existsSync(join(cwd, '.procctl/artifacts/executions/nosecret/outputs')), false);
  });

  it('redacts a secret value that a handler prints', async () => {
    const canary = `canary-${process.pid}-${Date.now()}`;
    const result = await echo({ leak_secret: true }, ['--mode', 'real', '--placement', 'in-process'], cleanEnv({ ECHO_TOKEN: canary }));
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stdout + result.stderr, new RegExp(canary));
    assert.match(result.stderr, /the token is \[secret ECHO_TOKEN\]/);
    assert.deepEqual((envelopeOf(result) as SuccessEnvelope).meta.secrets_present, ['ECHO_TOKEN']);
  });
});

describe('procctl run, real mode in-process against a loopback provider', () => {
  let server: OpenAiServer;
  before(async () => {
    server = await startOpenAiServer();
  });
  after(() => server.close());

  it('fails with ERR_MISSING_SECRET before calling anything when OPENAI_API_KEY is absent', async () => {
    const before = server.requests.length;
    const result = await runCli([...LITELLM, '--mode', 'real', '--placement', 'in-process', '--json', '--inputs-json', HELLO_INPUTS], { env: cleanEnv({ OPENAI_BASE_URL: server.url }) });
    assert.match(errorOf(result, 'ERR_MISSING_SECRET', 5).message, /needs secret\(s\) OPENAI_API_KEY/);
    assert.equal(server.requests.length, before, 'no provider call');
  });

  it('calls the provider with the key and the bare model name, never printing the key', async () => {
    const key = `sk-canary-${process.pid}`;
    const cwd = tempDir();
    const inputs = JSON.stringify({ schema: 'v1', params: { model: 'openai/gpt-test', messages: [{ role: 'user', content: 'Hi there' }] } });
    const result = await runCli([...LITELLM, '--mode', 'real', '--placement', 'in-process', '--json', '--execution-id', 'real-1', '--inputs-json', inputs], { cwd, env: cleanEnv({ OPENAI_API_KEY: key, OPENAI_BASE_URL: server.url }) });
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const envelope = envelopeOf(result) as SuccessEnvelope;
    assert.deepEqual(envelope.meta.secrets_present, ['OPENAI_API_KEY']);
    const request = server.requests.at(-1);
    assert.equal(request?.authorization, `Bearer ${key}`);
    assert.equal(request?.body.model, 'gpt-test');
    const reply = readFileSync(join(cwd, '.procctl/artifacts/executions/real-1/outputs/text/response.txt'), 'utf8');
    assert.equal(reply, 'real reply from gpt-test to "Hi there"\n');
    for (const file of filesUnder(join(cwd, '.procctl'))) assert.doesNotMatch(readFileSync(join(cwd, '.procctl', file), 'latin1'), new RegExp(key), file);
    assert.doesNotMatch(result.stdout + result.stderr, new RegExp(key));
  });

  it('turns a provider failure into ERR_PROVIDER carrying the upstream status', async () => {
    server.failWith(429, '{"error":{"message":"slow down"}}');
    const result = await runCli([...LITELLM, '--mode', 'real', '--placement', 'in-process', '--json', '--inputs-json', HELLO_INPUTS], { env: cleanEnv({ OPENAI_API_KEY: 'sk-x-12345', OPENAI_BASE_URL: server.url }) });
    const error = errorOf(result, 'ERR_PROVIDER', 9);
    assert.equal(error.details?.['status'], 429);
    assert.equal(error.retryable, true);
    server.failWith(401, '{"error":{"message":"bad key sk-x-12345"}}');
    const unauthorised = errorOf(await runCli([...LITELLM, '--mode', 'real', '--placement', 'in-process', '--json', '--inputs-json', HELLO_INPUTS], { env: cleanEnv({ OPENAI_API_KEY: 'sk-x-12345', OPENAI_BASE_URL: server.url }) }), 'ERR_PROVIDER', 9);
    assert.equal(unauthorised.retryable, false);
    assert.doesNotMatch(unauthorised.message, /sk-x-12345/, 'an echoed key is redacted');
    assert.match(unauthorised.message, /\[secret OPENAI_API_KEY\]/);
  });

  it('reports an unreachable provider as a retryable ERR_PROVIDER', async () => {
    const error = errorOf(await runCli([...LITELLM, '--mode', 'real', '--placement', 'in-process', '--json', '--inputs-json', HELLO_INPUTS], { env: cleanEnv({ OPENAI_API_KEY: 'sk-x', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' }) }), 'ERR_PROVIDER', 9);
    assert.match(error.message, /cannot reach http:\/\/127\.0\.0\.1:9\/v1/);
    assert.equal(error.retryable, true);
  });
});

mkdirSync(GOLDEN, { recursive: true });
