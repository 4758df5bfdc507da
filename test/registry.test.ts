import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ProcctlError} from '../src/index.js';
import { parseRef, Registry } from '../src/index.js';
import { cleanEnv, runCli, tempDir } from './helpers/cli.js';
import { FIXTURE_REGISTRY } from './helpers/paths.js';

const rejects = (text: string, hint: RegExp) =>
  assert.throws(() => parseRef(text), (e: ProcctlError) => e.code === 'ERR_REF_INVALID' && hint.test(e.message), text);

describe('processor references', () => {
  it('parse ns/name@N into parts and a slug', () => {
    assert.deepEqual(parseRef('llm/litellm@1'), { namespace: 'llm', name: 'litellm', version: 1, text: 'llm/litellm@1', slug: 'llm-litellm-v1' });
    assert.equal(parseRef('my-org/chat-bot@12').slug, 'my-org-chat-bot-v12');
  });
  it('reject the near misses with the right form in the message', () => {
    rejects('llm/litellm', /version is missing; write llm\/litellm@1/);
    rejects('llm/litellm@v1', /whole number.*write llm\/litellm@1/);
    rejects('llm/litellm@1.2', /write llm\/litellm@1\b/);
    rejects('LLM/LiteLLM@1', /lower-case; write llm\/litellm@1/);
    rejects('llm/litellm@01', /write llm\/litellm@1/);
    rejects('litellm@1', /expected ns\/name@N/);
    rejects('llm/lite_llm@1', /lower-case letters, digits and single hyphens/);
    rejects('llm/litellm@', /whole number/);
  });
});

function registryWith(slug: string, yaml: string): string {
  const dir = tempDir('procctl-reg-');
  mkdirSync(join(dir, slug));
  writeFileSync(join(dir, slug, 'registry.yaml'), yaml);
  return dir;
}

const echoYaml = readFileSync(join(FIXTURE_REGISTRY, 'testing-echo-v1', 'registry.yaml'), 'utf8');

describe('registry entries', () => {
  it('snapshot the built-in llm/litellm@1 with its limits and secrets', () => {
    const snap = new Registry().snapshot('llm/litellm@1');
    assert.equal(snap.slug, 'llm-litellm-v1');
    assert.deepEqual(snap.entry.secrets.required, ['OPENAI_API_KEY']);
    assert.ok(snap.entry.runtime.timeout_s > 0 && snap.entry.runtime.concurrency >= 1);
    assert.match(snap.entry_cid, /^sha256:[0-9a-f]{64}$/);
  });
  it('name the file and the field of each problem', () => {
    const cases: [string, RegExp][] = [
      [echoYaml.replace('timeout_s: 1', 'timeout_s: -1'), /registry\.yaml: \/runtime\/timeout_s must be > 0/],
      [echoYaml.replace('  concurrency: 4\n', ''), /registry\.yaml: \/runtime is missing required property "concurrency"/],
      [echoYaml.replace(/sha256:1{64}/, 'sha256:abc'), /\/image\/digests\/linux~1amd64 must match pattern/],
      [echoYaml.replace('ref: testing/echo@1', 'ref: testing/echo@2'), /\/ref is testing\/echo@2, whose directory must be named testing-echo-v2/],
      [echoYaml.replace('ref: testing/echo@1', 'ref: Testing/echo@1'), /\/ref processor reference "Testing\/echo@1" is not valid/],
      [echoYaml.replace('  optional: [ECHO_EXTRA]', '  optional: [ECHO_TOKEN]'), /\/secrets lists ECHO_TOKEN as both required and optional/],
      [echoYaml.replace('  required: [ECHO_TOKEN]', '  required: [echo-token]'), /\/secrets\/required\/0 must match pattern/],
      [echoYaml.replace('  optional: [ECHO_EXTRA]', '  optional: [ECHO_EXTRA, PROCCTL_RUNTIME_TOKEN]'), /\/secrets\/optional\/1 is PROCCTL_RUNTIME_TOKEN: PROCCTL_\* names are procctl's own runtime settings/],
      [`${echoYaml}\nconfig: [PROCCTL_IMAGE_DIGEST]\n`, /\/config\/0 is PROCCTL_IMAGE_DIGEST: PROCCTL_\*/],
      [`${echoYaml}\nconfig: [ECHO_BASE_URL, ECHO_TOKEN]\n`, /\/config lists ECHO_TOKEN, which is also declared as a secret/],
      [echoYaml.replace('inputs_schema:\n  type: object', 'inputs_schema:\n  type: objekt'), /\/inputs_schema is not a valid JSON Schema/],
      [`${echoYaml}\nbogus: 1\n`, /registry\.yaml: \/ has unknown property "bogus"/],
      ['ref: [unclosed\n', /is not valid YAML at line \d+, column \d+/],
      [`${echoYaml}\nref: testing/echo@1\n`, /is not valid YAML/],
    ];
    for (const [yaml, expected] of cases) {
      const dir = registryWith('testing-echo-v1', yaml);
      assert.throws(() => new Registry(dir).snapshot('testing/echo@1'), (e: ProcctlError) => e.code === 'ERR_REGISTRY_INVALID' && expected.test(e.message) && e.message.startsWith('testing-echo-v1/registry.yaml: ') && e.details?.['file'] === 'testing-echo-v1/registry.yaml' && !e.message.includes(dir), String(expected));
    }
  });
  it('report a processor that is not there with ERR_PROCESSOR_NOT_FOUND', () => {
    assert.throws(() => new Registry(FIXTURE_REGISTRY).snapshot('nope/missing@1'), (e: ProcctlError) => e.code === 'ERR_PROCESSOR_NOT_FOUND' && /nope-missing-v1/.test(e.message));
  });
});

describe('procctl registry', () => {
  it('lists, shows and validates the built-in registry', async () => {
    const list = await runCli(['registry', 'list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^llm\/litellm@1 /m);
    const show = await runCli(['registry', 'show', 'llm/litellm@1']);
    assert.equal(show.code, 0);
    assert.equal((JSON.parse(show.stdout) as { ref: string }).ref, 'llm/litellm@1');
    const validate = await runCli(['registry', 'validate']);
    assert.equal(validate.code, 0, validate.stderr);
    assert.match(validate.stdout, /^(\d+) of \1 entries valid/);
  });
  it('validate reports every broken entry and exits non-zero', async () => {
    const dir = tempDir('procctl-reg-');
    cpSync(FIXTURE_REGISTRY, dir, { recursive: true });
    mkdirSync(join(dir, 'a-b-v1'));
    writeFileSync(join(dir, 'a-b-v1', 'registry.yaml'), echoYaml.replace('ref: testing/echo@1', 'ref: a/b@1').replace('timeout_s: 1', 'timeout_s: 0'));
    mkdirSync(join(dir, 'c-d-v1'));
    writeFileSync(join(dir, 'c-d-v1', 'registry.yaml'), 'ref: c/d@1\n');
    const result = await runCli(['registry', '--registry', dir, 'validate'], { env: cleanEnv() });
    assert.equal(result.code, 4);
    assert.match(result.stderr, /a-b-v1\/registry\.yaml: \/runtime\/timeout_s must be > 0/);
    assert.match(result.stderr, /c-d-v1\/registry\.yaml: \/ is missing required property/);
    assert.match(result.stdout, /1 of 3 entries valid/);
  });
  it('show names a bad reference without a stack trace', async () => {
    const result = await runCli(['registry', 'show', 'llm/litellm@v1']);
    assert.equal(result.code, 3);
    assert.equal(result.stderr.trim(), 'error ERR_REF_INVALID: processor reference "llm/litellm@v1" is not valid: the version is a whole number without prefix or minor part; write llm/litellm@1');
  });
});
