/**
 * Secrets and other leaks: no fragment of a secret (FRAGMENT_CHARS or longer) survives redaction
 * wherever the text was cut; endpoint credentials never show; 401/403 are not retryable; envelopes
 * do not depend on where procctl is installed; store errors say what the system said.
 */
import assert from 'node:assert/strict';
import { chmodSync, cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { FRAGMENT_CHARS, secretRedactor } from '../../src/execution/redact.js';
import { cleanEnv, HELLO_INPUTS, runCli, tempDir } from '../helpers/cli.js';
import { errorOf } from '../helpers/envelope.js';
import { filesUnder } from '../helpers/files.js';
import { startOpenAiServer, type OpenAiServer } from '../helpers/openai-server.js';
import { FIXTURE_REGISTRY, REPO_ROOT } from '../helpers/paths.js';

const KEY_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const secretArb = fc.string({ unit: fc.constantFrom(...KEY_CHARS), minLength: 20, maxLength: 80 });

/** Fails if any substring of `secret` with FRAGMENT_CHARS characters appears in `text`. */
function assertNoFragment(text: string, secret: string, where: string): void {
  for (let i = 0; i + FRAGMENT_CHARS <= secret.length; i++) {
    const piece = secret.slice(i, i + FRAGMENT_CHARS);
    assert.ok(!text.includes(piece), `${where} holds ${JSON.stringify(piece)}, a piece of the secret`);
  }
}

describe('secret redaction survives any cut', () => {
  it('property: a secret at a random offset in a random body, cut anywhere, leaves no piece of it', () => {
    fc.assert(
      fc.property(secretArb, fc.string({ maxLength: 400 }), fc.nat(), fc.nat(), fc.nat(), (secret, body, at, cutStart, cutLength) => {
        const offset = at % (body.length + 1);
        const text = body.slice(0, offset) + secret + body.slice(offset);
        const start = cutStart % (text.length + 1);
        const cut = text.slice(start, start + (cutLength % (text.length + 1)));
        const redacted = secretRedactor(['KEY'], { KEY: secret })(cut);
        assertNoFragment(redacted, secret, 'the redacted text');
      }),
      { numRuns: 500 },
    );
  });

  describe('through the CLI, against a loopback provider', () => {
    let server: OpenAiServer;
    before(async () => {
      server = await startOpenAiServer();
    });
    after(() => server.close());

    it('a key in an error body straddling the 300-character cut leaves no piece in envelope, stderr or store', async () => {
      await fc.assert(
        fc.asyncProperty(secretArb, fc.integer({ min: 250, max: 310 }), async (secret, offset) => {
          const body = `${'x'.repeat(offset)}${secret}${'y'.repeat(50)}`;
          server.failWith(401, body);
          const cwd = tempDir();
          const result = await runCli(['run', '--ref', 'llm/litellm@1', '--mode', 'real', '--placement', 'in-process', '--json', '--inputs-json', HELLO_INPUTS], { cwd, env: cleanEnv({ OPENAI_API_KEY: secret, OPENAI_BASE_URL: server.url }) });
          const error = errorOf(result, 'ERR_PROVIDER', 9);
          assert.equal(error.retryable, false, 'a 401 is not retryable');
          assertNoFragment(result.stdout, secret, 'the envelope');
          assertNoFragment(result.stderr, secret, 'stderr');
          for (const file of filesUnder(join(cwd, '.procctl'))) assertNoFragment(readFileSync(join(cwd, '.procctl', file), 'latin1'), secret, file);
        }),
        { numRuns: 6 },
      );
    });

    it('403 is not retryable either, in-process and over the protocol', async () => {
      server.failWith(403, '{"error":{"message":"forbidden"}}');
      for (const placement of ['in-process', 'process']) {
        const result = await runCli(['run', '--ref', 'llm/litellm@1', '--mode', 'real', '--placement', placement, '--json', '--inputs-json', HELLO_INPUTS], { env: cleanEnv({ OPENAI_API_KEY: 'sk-test-1234567890', OPENAI_BASE_URL: server.url }) });
        assert.equal(errorOf(result, 'ERR_PROVIDER', 9).retryable, false, placement);
      }
    });

    it('credentials in OPENAI_BASE_URL never appear in logs, messages or details', async () => {
      const password = 'pa55-Word-in-url-0123';
      const { hostname, port } = new URL(server.url);
      const base = `http://admin:${password}@${hostname}:${port}`;
      server.failWith(500, 'upstream sad');
      const cwd = tempDir();
      const result = await runCli(['run', '--ref', 'llm/litellm@1', '--mode', 'real', '--placement', 'in-process', '--json', '--inputs-json', HELLO_INPUTS], { cwd, env: cleanEnv({ OPENAI_API_KEY: 'sk-test-1234567890', OPENAI_BASE_URL: base }) });
      const error = errorOf(result, 'ERR_PROVIDER', 9);
      assert.equal(error.details?.['base_url'], `http://${hostname}:${port}`);
      for (const text of [result.stdout, result.stderr, ...filesUnder(join(cwd, '.procctl')).map((f) => readFileSync(join(cwd, '.procctl', f), 'utf8'))]) {
        assert.ok(!text.includes(password) && !text.includes('admin:'), text);
      }
    });
  });
});

describe('envelopes do not depend on where procctl is installed', () => {
  /** A copy of the built package (dist, processors, package.json) at a new place, sharing node_modules. */
  function install(): string {
    const dir = join(tempDir('procctl-install-'), 'procctl');
    mkdirSync(dir);
    for (const part of ['dist', 'processors', 'package.json']) cpSync(join(REPO_ROOT, part), join(dir, part), { recursive: true });
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
    return dir;
  }

  it('ERR_PROCESSOR_NOT_FOUND and a bad default export give identical bytes from two install locations', async () => {
    const [a, b] = [install(), install()];
    // A user registry, also at two places, whose handler exports something that is not a processor.
    const registries = [a, b].map((root) => {
      const reg = join(root, 'user-registry');
      cpSync(FIXTURE_REGISTRY, reg, { recursive: true });
      writeFileSync(join(reg, 'testing-echo-v1/handler.js'), 'export default 42;\n');
      return reg;
    });
    const outputs = await Promise.all(
      [a, b].map(async (root, i) => {
        const bin = join(root, 'dist/src/cli/procctl.js');
        const args = ['--json', '--execution-id', 'same', '--inputs-json', HELLO_INPUTS];
        const missing = await runCli(['run', '--ref', 'no/such@1', ...args], { bin });
        errorOf(missing, 'ERR_PROCESSOR_NOT_FOUND', 4);
        const badExport = await runCli(['run', '--ref', 'testing/echo@1', '--registry', registries[i] as string, ...args], { bin });
        errorOf(badExport, 'ERR_REGISTRY_INVALID', 4);
        return [missing.stdout, badExport.stdout];
      }),
    );
    assert.deepEqual(outputs[0], outputs[1]);
    for (const text of outputs.flat()) assert.ok(!text.includes(a) && !text.includes(b) && !text.includes(REPO_ROOT), text);
  });

  it('a bad registry entry (or a handler failing on a file beside it) gives identical envelopes from registry folders at different depths, in-process and with --placement process', async () => {
    const echoYaml = readFileSync(join(FIXTURE_REGISTRY, 'testing-echo-v1', 'registry.yaml'), 'utf8');
    // One shallow folder; one deep folder reached through a symlink (Node names modules by real path).
    const shallow = join(tempDir('r-'), 'reg');
    const deepReal = join(tempDir('procctl-deep-registry-'), 'a', 'bb', 'ccc', 'dddd', 'reg');
    const deep = join(tempDir('procctl-linked-'), 'link');
    mkdirSync(deepReal, { recursive: true });
    symlinkSync(deepReal, deep);
    for (const reg of [shallow, deepReal]) {
      mkdirSync(reg, { recursive: true });
      const add = (slug: string, yaml: string, handler: string) => {
        mkdirSync(join(reg, slug));
        writeFileSync(join(reg, slug, 'registry.yaml'), yaml);
        writeFileSync(join(reg, slug, 'handler.js'), handler);
      };
      const handler = readFileSync(join(FIXTURE_REGISTRY, 'testing-echo-v1', 'handler.js'), 'utf8');
      add('testing-badfield-v1', `${echoYaml.replace('ref: testing/echo@1', 'ref: testing/badfield@1')}\nbogus: 1\n`, handler);
      add('testing-badyaml-v1', 'ref: [unclosed\n', handler);
      add('testing-unreadable-v1', echoYaml.replace('ref: testing/echo@1', 'ref: testing/unreadable@1'), handler);
      chmodSync(join(reg, 'testing-unreadable-v1', 'registry.yaml'), 0o000);
      add('testing-badimport-v1', echoYaml.replace('ref: testing/echo@1', 'ref: testing/badimport@1'), "import './lib/missing.js';\nexport default 1;\n");
      // A valid entry whose handler fails naming a file beside it (Node's ENOENT carries the full path).
      const reads = "import { readFileSync } from 'node:fs';\nconst handle = () => { readFileSync(new URL('./data.json', import.meta.url)); };\nexport default { mock: handle, real: handle };\n";
      add('testing-readsfile-v1', echoYaml.replace('ref: testing/echo@1', 'ref: testing/readsfile@1'), reads);
    }
    const refs = ['testing/badfield@1', 'testing/badyaml@1', 'testing/badimport@1', 'testing/readsfile@1'];
    // root reads a mode-000 file anyway; the unreadable case only says something when not root.
    if (process.getuid?.() !== 0) refs.push('testing/unreadable@1');
    const envelopes = async (reg: string) => {
      const texts: string[] = [];
      for (const placement of ['in-process', 'process']) {
        for (const ref of refs) {
          const result = await runCli(['run', '--ref', ref, '--registry', reg, '--placement', placement, '--json', '--execution-id', 'same', '--artifacts', tempDir(), '--inputs-json', '{"schema":"v1","params":{}}']);
          const slug = `${ref.replace('/', '-').replace('@', '-v')}`;
          if (ref === 'testing/readsfile@1') {
            const failed = errorOf(result, 'ERR_PROCESSOR_FAILED', 10);
            assert.match(failed.message, new RegExp(`^testing/readsfile@1 failed: ENOENT: .*'${slug}/data\\.json'`), `${placement} ${failed.message}`);
            texts.push(result.stdout);
            continue;
          }
          const error = errorOf(result, 'ERR_REGISTRY_INVALID', 4);
          if (ref === 'testing/badimport@1') {
            assert.match(error.message, new RegExp(`^${slug}/handler\\.js cannot be imported: .*${slug}/lib/missing\\.js`), `${placement} ${ref}`);
          } else {
            assert.equal(error.details?.['file'], `${slug}/registry.yaml`, `${placement} ${ref}`);
            assert.ok(error.message.startsWith(`${slug}/registry.yaml: `), error.message);
          }
          texts.push(result.stdout);
        }
      }
      return texts;
    };
    const [fromShallow, fromDeep] = [await envelopes(shallow), await envelopes(deep)];
    assert.deepEqual(fromShallow, fromDeep);
    for (const text of [...fromShallow, ...fromDeep]) {
      for (const path of [shallow, deep, deepReal, REPO_ROOT]) assert.ok(!text.includes(path), `${path} in ${text}`);
    }

    // A person still learns which file, and where the folder is.
    for (const command of ['validate', 'list']) {
      const result = await runCli(['registry', command, '--registry', deep]);
      assert.equal(result.code, 4, result.stderr);
      assert.match(result.stderr, /error ERR_REGISTRY_INVALID: testing-badfield-v1\/registry\.yaml: \/ has unknown property "bogus"/);
      assert.match(result.stderr, /error ERR_REGISTRY_INVALID: testing-badyaml-v1\/registry\.yaml: is not valid YAML/);
      assert.ok((result.stdout + result.stderr).includes(deep), `registry ${command} names the folder ${deep}`);
    }
  });
});

describe('store errors say what the system said', () => {
  const run = (artifacts: string) => runCli(['run', '--ref', 'llm/litellm@1', '--inputs-json', HELLO_INPUTS, '--json', '--artifacts', artifacts]);

  it('a file in the way is ENOTDIR naming it, not retryable', async () => {
    const file = join(tempDir(), 'plain-file');
    writeFileSync(file, 'x');
    const error = errorOf(await run(join(file, 'store')), 'ERR_ARTIFACT_STORE', 6);
    assert.equal(error.details?.['reason'], 'ENOTDIR');
    assert.match(error.message, /is a file, not a directory/);
    assert.equal(error.retryable, false);
  });

  it('a read-only store is EROFS, not retryable (a read-only tmpfs in a private mount namespace)', async (t) => {
    const dir = tempDir();
    const probe = spawnSync('unshare', ['-m', 'true']);
    if (probe.status !== 0 && !process.env['CI']) return t.skip('unshare -m is not permitted here (not root?); CI runs it');
    const script = `mount -t tmpfs -o ro tmpfs ${dir} && exec "${process.execPath}" "${join(REPO_ROOT, 'dist/src/cli/procctl.js')}" run --ref llm/litellm@1 --inputs-json '${HELLO_INPUTS}' --json --artifacts ${join(dir, 'store')}`;
    const result = spawnSync('unshare', ['-m', 'sh', '-c', script], { env: cleanEnv(), encoding: 'utf8' });
    const error = errorOf({ code: result.status, stdout: result.stdout, stderr: result.stderr }, 'ERR_ARTIFACT_STORE', 6);
    assert.equal(error.details?.['reason'], 'EROFS');
    assert.equal(error.retryable, false);
  });
});
