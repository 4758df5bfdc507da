/**
 * Start-up behaviour of the CLI across Node versions: the module compile cache lives under
 * procctl's cache directory where Node has one, and the main command loads no certificates.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import module from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cleanEnv, HELLO_INPUTS, runCli, tempDir } from './helpers/cli.js';

const MAIN = ['run', '--ref', 'llm/litellm@1', '--inputs-json', HELLO_INPUTS, '--json', '--quiet'];
const hasCompileCache = typeof (module as { enableCompileCache?: unknown }).enableCompileCache === 'function';

/** Every file below `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name);
}

describe('start-up', () => {
  it(`keeps Node's compile cache under PROCCTL_CACHE_DIR (${hasCompileCache ? 'this Node has one' : 'this Node has none: nothing is written'})`, async () => {
    const cache = tempDir('procctl-cache-');
    const result = await runCli(MAIN, { env: cleanEnv({ PROCCTL_CACHE_DIR: cache }) });
    assert.equal(result.code, 0, result.stderr);
    const compiled = join(cache, 'v8-compile');
    if (hasCompileCache) {
      assert.ok(existsSync(compiled), 'no v8-compile folder after a run');
      assert.ok(filesUnder(compiled).length > 10, `only ${filesUnder(compiled).length} cached modules`);
      // A second run reads it and gives the same envelope bytes (modulo the fresh execution id).
      const again = await runCli([...MAIN, '--execution-id', 'cc-1'], { env: cleanEnv({ PROCCTL_CACHE_DIR: cache }) });
      const fresh = await runCli([...MAIN, '--execution-id', 'cc-1'], { env: cleanEnv({ PROCCTL_CACHE_DIR: tempDir('procctl-cache-') }) });
      assert.equal(again.stdout, fresh.stdout);
    } else {
      assert.ok(!existsSync(compiled), 'a v8-compile folder on a Node without a compile cache');
    }
  });

  it("leaves Node's own switch alone: NODE_DISABLE_COMPILE_CACHE writes nothing", async () => {
    const cache = tempDir('procctl-cache-');
    const result = await runCli(MAIN, { env: cleanEnv({ PROCCTL_CACHE_DIR: cache, NODE_DISABLE_COMPILE_CACHE: '1' }) });
    assert.equal(result.code, 0, result.stderr);
    assert.ok(!existsSync(join(cache, 'v8-compile')));
  });

  it('loads no certificates on the main command: NODE_EXTRA_CA_CERTS is read only when Node itself reads it at boot', async () => {
    // A missing file makes Node say so on stderr at the moment it loads the extra certificates:
    // at boot on Node 20, on first TLS use on Node 22+.
    const env = cleanEnv({ NODE_EXTRA_CA_CERTS: join(tempDir(), 'missing-ca.pem') });
    const warns = (stderr: string) => stderr.includes('Ignoring extra certs');
    const atBoot = warns(spawnSync(process.execPath, ['-e', '0'], { env, encoding: 'utf8' }).stderr);
    const onTls = warns(spawnSync(process.execPath, ['-e', "require('node:tls').createSecureContext()"], { env, encoding: 'utf8' }).stderr);
    assert.ok(onTls, 'the probe itself does not work: creating a TLS context did not load the extra certificates');
    const main = await runCli(MAIN, { env });
    assert.equal(main.code, 0, main.stderr);
    assert.equal(warns(main.stderr), atBoot, `procctl run ${atBoot ? 'did not load' : 'loaded'} the extra certificates:\n${main.stderr}`);
  });
});
