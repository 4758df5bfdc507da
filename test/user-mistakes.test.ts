/**
 * Issue 9 §1 (user mistakes are typed errors, never ERR_INTERNAL) and §6 (the README's own
 * example runs), plus `--version` and `--json` usage errors — all through the real bins.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cleanEnv, runCli, tempDir } from './helpers/cli.js';
import { envelopeOf, errorOf } from './helpers/envelope.js';
import { FIXTURE_REGISTRY, LOCALCTL_BIN, REPO_ROOT } from './helpers/paths.js';

const RUNTIME_BIN = fileURLToPath(new URL('../src/cli/procctl-runtime.js', import.meta.url));
const EXECUTOR_BIN = fileURLToPath(new URL('../src/cli/llmctl-executor.js', import.meta.url));

const ENTRY = (ref: string, params = '{ text: { type: string } }') => `ref: ${ref}
image: { repository: 127.0.0.1:5000/procctl/x, digests: {} }
secrets: { required: [] }
runtime: { timeout_s: 5, concurrency: 1 }
inputs_schema:
  type: object
  properties: ${params}
outputs: []
`;

/** The README's "Writing a processor" example, as a user would save it: the README's own text. */
function readmeHandler(): string {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Writing a processor'));
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(code, 'the README has the example');
  // TypeScript's type argument is the only thing a .js file cannot hold.
  return code.replace('defineProcessor<{ text: string }>(', 'defineProcessor(');
}

function userRegistry(): string {
  const dir = tempDir('procctl-user-registry-');
  mkdirSync(join(dir, 'my-upper-v1'));
  writeFileSync(join(dir, 'my-upper-v1', 'registry.yaml'), ENTRY('my/upper@1'));
  writeFileSync(join(dir, 'my-upper-v1', 'handler.js'), readmeHandler());
  return dir;
}

describe("the README's own example (Writing a processor), through the real bins", () => {
  it("import { defineProcessor } from 'procctl' resolves in a --registry folder: validate, run in-process and over --placement process", async () => {
    const registry = userRegistry();
    const validate = await runCli(['registry', 'validate', '--registry', registry]);
    assert.equal(validate.code, 0, validate.stderr);
    assert.match(validate.stdout, /1 of 1 entries valid/);
    const envelopes = [];
    for (const placement of ['in-process', 'process']) {
      const artifacts = tempDir();
      const result = await runCli(['run', '--registry', registry, '--ref', 'my/upper@1', '--placement', placement, '--execution-id', 'readme-1', '--artifacts', artifacts, '--inputs-json', '{"schema":"v1","params":{"text":"hello"}}', '--json']);
      const envelope = envelopeOf(result);
      assert.equal(envelope.status, 'success', result.stdout + result.stderr);
      assert.equal(readFileSync(join(artifacts, 'executions', 'readme-1', 'outputs', 'upper.txt'), 'utf8'), 'HELLO');
      envelopes.push(result.stdout);
    }
    assert.equal(envelopes[0], envelopes[1]);
  });

  it('PROCCTL_REGISTRY works the same way', async () => {
    const result = await runCli(['run', '--ref', 'my/upper@1', '--inputs-json', '{"schema":"v1","params":{"text":"x"}}', '--json'], { env: cleanEnv({ PROCCTL_REGISTRY: userRegistry() }) });
    assert.equal(envelopeOf(result).status, 'success', result.stdout + result.stderr);
  });
});

describe('user mistakes in a registry folder are typed errors naming the file and field; the good entries still show', () => {
  const broken = () => {
    const dir = userRegistry();
    cpSync(join(FIXTURE_REGISTRY, 'testing-echo-v1'), join(dir, 'testing-echo-v1'), { recursive: true });
    const add = (slug: string, yaml: string, handler?: string) => {
      mkdirSync(join(dir, slug));
      writeFileSync(join(dir, slug, 'registry.yaml'), yaml);
      if (handler !== undefined) writeFileSync(join(dir, slug, 'handler.js'), handler);
    };
    // A billion-laughs alias bomb: nine-fold per level.
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefgh'.split('').map((l, i) => `${l}: &${l} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(', ')}]`)].join('\n');
    add('my-bomb-v1', `${bomb}\n${ENTRY('my/bomb@1')}`, readmeHandler());
    add('my-remote-v1', ENTRY('my/remote@1', '{ text: { $ref: "https://schemas.example/text.json" } }'), readmeHandler());
    add('my-unimportable-v1', ENTRY('my/unimportable@1'), "import { nothing } from 'no-such-package';\nexport default nothing;\n");
    add('my-notdefined-v1', ENTRY('my/notdefined@1'), 'export default { hello: 1 };\n');
    return dir;
  };

  it('registry list lists the good entries, reports each bad one by file, and exits 4', async () => {
    const dir = broken();
    const result = await runCli(['registry', 'list', '--registry', dir]);
    assert.equal(result.code, 4, result.stderr);
    assert.match(result.stdout, /^my\/upper@1 /m);
    assert.match(result.stdout, /^testing\/echo@1 /m);
    assert.match(result.stderr, /error ERR_REGISTRY_INVALID: .*my-bomb-v1\/registry\.yaml: cannot be read as data: .*alias/);
    assert.match(result.stderr, /error ERR_REGISTRY_INVALID: .*my-remote-v1\/registry\.yaml: \/inputs_schema\/properties\/text\/\$ref refers to "https:\/\/schemas\.example\/text\.json"/);
    assert.doesNotMatch(result.stderr, /ERR_INTERNAL|\n\s+at /);
    const json = await runCli(['registry', 'list', '--registry', dir, '--json']);
    assert.deepEqual((JSON.parse(json.stdout) as { ref: string }[]).map((e) => e.ref), ['my/notdefined@1', 'my/unimportable@1', 'my/upper@1', 'testing/echo@1']);
  });

  it('registry validate loads every handler: an unimportable one and a non-definition are reported, exit 4', async () => {
    const result = await runCli(['registry', 'validate', '--registry', broken()]);
    assert.equal(result.code, 4);
    assert.match(result.stderr, /ERR_REGISTRY_INVALID: my-unimportable-v1\/handler\.js cannot be imported: Cannot find package 'no-such-package'/);
    assert.match(result.stderr, /ERR_REGISTRY_INVALID: .*my-notdefined-v1\/handler\.js: the default export is not a processor definition/);
    assert.match(result.stdout, /2 of 6 entries valid/);
    assert.doesNotMatch(result.stderr, /ERR_INTERNAL|\n\s+at /);
  });

  it('a run of a bad entry is that typed error, never ERR_INTERNAL', async () => {
    const dir = broken();
    const remote = errorOf(await runCli(['run', '--registry', dir, '--ref', 'my/remote@1', '--inputs-json', '{"schema":"v1","params":{"text":"x"}}', '--json']), 'ERR_REGISTRY_INVALID', 4);
    assert.equal(remote.details?.['field'], '/inputs_schema/properties/text/$ref');
    const unimportable = errorOf(await runCli(['run', '--registry', dir, '--ref', 'my/unimportable@1', '--inputs-json', '{"schema":"v1","params":{"text":"x"}}', '--json']), 'ERR_REGISTRY_INVALID', 4);
    assert.deepEqual(unimportable.details, { slug: 'my-unimportable-v1', field: 'handler' });
    assert.doesNotMatch(unimportable.message, new RegExp(dir), 'no host path in the envelope');
    errorOf(await runCli(['run', '--registry', dir, '--ref', 'my/bomb@1', '--inputs-json', '{"schema":"v1","params":{}}', '--json']), 'ERR_REGISTRY_INVALID', 4);
  });

  it('schema --write onto an existing file (or below one) is ERR_USAGE naming the path', async () => {
    const file = join(tempDir(), 'schemas.json');
    writeFileSync(file, 'mine');
    for (const target of [file, join(file, 'sub')]) {
      const result = await runCli(['schema', '--write', target]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, new RegExp(`error ERR_USAGE: --write ${target.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: is (an existing file|under a file)`));
    }
    assert.equal(readFileSync(file, 'utf8'), 'mine', 'the file is untouched');
  });
});

describe('--version on every bin; --json usage errors are error envelopes', () => {
  const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  for (const [name, bin] of [['procctl', undefined], ['localctl', LOCALCTL_BIN], ['procctl-runtime', RUNTIME_BIN], ['llmctl-executor', EXECUTOR_BIN]] as const) {
    it(`${name} --version prints ${version}`, async () => {
      const result = await runCli(['--version'], bin ? { bin } : {});
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `${version}\n`);
    });
  }

  it('a usage error with --json prints one ERR_USAGE envelope on stdout, exit 2', async () => {
    const cases: [string[], string | undefined][] = [
      [['run', '--json', '--inputs-json', '{}'], undefined],
      [['run', '--ref', 'llm/litellm@1', '--json', '--bogus'], undefined],
      [['run', '--ref', 'llm/litellm@1', '--json', '--mode', 'sideways', '--inputs-json', '{}'], undefined],
      [['run', '--ref', 'llm/litellm@1', '--json', '--inputs-json', '{}', '--inputs-file', 'x'], undefined],
      [['run', '--ref', 'llm/litellm@1', '--json', '--bogus'], LOCALCTL_BIN],
      [['status', '--json', '--nope'], LOCALCTL_BIN],
    ];
    for (const [args, bin] of cases) {
      const result = await runCli(args, bin ? { bin } : {});
      const error = errorOf(result, 'ERR_USAGE', 2);
      assert.ok(error.message.length > 0);
    }
    const withoutJson = await runCli(['run', '--bogus']);
    assert.equal(withoutJson.code, 2);
    assert.equal(withoutJson.stdout, '', 'no envelope without --json');
  });
});

describe('llmctl-executor: a payload is checked whole before the command runs', () => {
  it('metadata nested thousands deep (or repeating a name) is invalid_payload: exactly one result line, the command never ran', async () => {
    const dir = tempDir();
    const marker = join(dir, 'ran');
    const deep = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
    for (const metadata of [deep(5000), deep(150), '{"k":1,"k":2}', '{"t":"\\udfff"}']) {
      const payload = `{"contract_version":"v1","provider":"workspace","command":["touch",${JSON.stringify(marker)}],"metadata":${metadata}}`;
      const result = await runCli(['--payload-json', payload], { bin: EXECUTOR_BIN });
      const lines = result.stdout.split('\n').filter((l) => l.startsWith('LLMCTL_EXECUTOR_RESULT_JSON='));
      assert.equal(lines.length, 1, result.stdout + result.stderr);
      const parsed = JSON.parse((lines[0] as string).slice('LLMCTL_EXECUTOR_RESULT_JSON='.length)) as { status: string; error: { code: string; message: string } };
      assert.equal(parsed.error.code, 'invalid_payload');
      assert.match(parsed.error.message, /not I-JSON: \/metadata/);
      assert.equal(result.code, 2);
      assert.equal(existsSync(marker), false, 'the command did not run');
    }
  });
});
