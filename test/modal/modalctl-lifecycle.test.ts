import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { engine, type SuccessEnvelope } from '../../src/index.js';
import { HELLO_INPUTS, tempDir, type CliResult } from '../helpers/cli.js';
import { needDocker } from '../helpers/docker.js';
import { allText } from '../helpers/cli.js';
import { ECHO_A, envelopeOf, failure, standinSuite } from '../helpers/modal.js';

describe('modalctl against the Modal stand-in: concurrent starts, expiry, secrets', { concurrency: false }, () => {
  const s = standinSuite(['race', 'ttl', 'secrets']);

  it('ends with one deployment when shells start at the same moment, each returning once it is healthy', async (t) => {
    if (!(await needDocker(t))) return;
    const starts = await Promise.all([1, 2, 3, 4].map(() => s.h.modalctl(['start', '--ref', 'testing/echo@1', '--env', 'race', '--json'])));
    for (const s of starts) assert.equal(s.code, 0, s.stderr);
    const shown = starts.map((s) => JSON.parse(s.stdout) as { sandbox_id: string; reused: boolean });
    assert.equal(new Set(shown.map((s) => s.sandbox_id)).size, 1, 'one sandbox for all');
    assert.equal(shown.filter((s) => !s.reused).length, 1, 'exactly one shell created it');
    assert.equal(s.h.standin.sandboxes().filter((s) => s.env === 'race').length, 1);
    const run = await s.h.modalctl(['run', '--ref', 'testing/echo@1', '--env', 'race', '--json', '--inputs-json', ECHO_A], { cwd: tempDir() });
    assert.equal(envelopeOf(run).status, 'success', run.stdout);
  });

  it('lets Modal end a deployment at its --ttl: run says it expired, status shows it expired', async (t) => {
    if (!(await needDocker(t))) return;
    const start = await s.h.modalctl(['start', '--ref', 'testing/echo@1', '--env', 'ttl', '--ttl', '4s', '--json']);
    assert.equal(start.code, 0, start.stderr);
    const { sandbox_id: id } = JSON.parse(start.stdout) as { sandbox_id: string };
    for (let i = 0; i < 200 && !s.h.standin.sandboxes().find((s) => s.id === id)?.result; i++) await delay(100);
    const container = s.h.standin.sandboxes().find((s) => s.id === id)?.containerName ?? '';
    assert.equal((await engine().getContainer(container).inspect()).State.Running, false, 'the timeout really ended the sandbox');
    const run = await s.h.modalctl(['run', '--ref', 'testing/echo@1', '--env', 'ttl', '--json', '--inputs-json', ECHO_A]);
    const error = failure(run);
    assert.equal(error.code, 'ERR_FUNCTION_NOT_FOUND');
    assert.equal(error.details?.['reason'], 'expired');
    assert.match(error.message, /expired \(it ran past its --ttl\); start it with: modalctl start --ref testing\/echo@1 --env ttl/);
    const status = await s.h.modalctl(['status', '--env', 'ttl']);
    assert.match(status.stdout, /procctl-testing-echo-v1-mock +testing\/echo@1 +ttl +mock +expired/);
    assert.equal((await s.h.modalctl(['start', '--ref', 'testing/echo@1', '--env', 'ttl', '--ttl', '25h'])).code, 2, 'past Modal\'s 24 h');
  });

  it('syncs secrets by name, mounts them only in the real sandbox, and the canary appears nowhere else', async (t) => {
    if (!(await needDocker(t))) return;
    const canary = `sk-modal-canary-${process.pid}-${Date.now()}`;
    const cwd = tempDir();
    const env = s.h.env({ OPENAI_API_KEY: canary, OPENAI_BASE_URL: s.provider.url.replace(/\/\/[^:]+:/, '//host.docker.internal:') });
    const seen: string[] = [];
    const note = (r: CliResult) => (seen.push(r.stdout, r.stderr), r);

    const missing = note(await s.h.modalctl(['sync-secrets', '--ref', 'llm/litellm@1', '--env', 'secrets']));
    assert.equal(missing.code, 5);
    assert.match(missing.stderr, /ERR_MISSING_SECRET: .*OPENAI_API_KEY/);
    const early = note(await s.h.modalctl(['start', '--ref', 'llm/litellm@1', '--env', 'secrets', '--mode', 'real'], { env }));
    assert.equal(early.code, 5, early.stderr);
    assert.match(early.stderr, /create it with: modalctl sync-secrets --ref llm\/litellm@1 --env secrets/);

    const sync = note(await s.h.modalctl(['sync-secrets', '--ref', 'llm/litellm@1', '--env', 'secrets'], { env }));
    assert.equal(sync.code, 0, sync.stderr);
    assert.equal(sync.stdout, 'synced Modal Secret procctl-llm-litellm-v1 in secrets: OPENAI_API_KEY\n');
    const real = note(await s.h.modalctl(['start', '--ref', 'llm/litellm@1', '--env', 'secrets', '--mode', 'real', '--json'], { env }));
    assert.equal(real.code, 0, real.stderr);
    const mock = note(await s.h.modalctl(['start', '--ref', 'llm/litellm@1', '--env', 'secrets', '--json'], { env }));
    assert.equal(mock.code, 0, mock.stderr);

    const run = note(await s.h.modalctl(['run', '--ref', 'llm/litellm@1', '--env', 'secrets', '--mode', 'real', '--json', '--execution-id', 'modal-real-1', '--inputs-json', '{"schema":"v1","params":{"model":"openai/gpt-m","messages":[{"content":"Hi"}]}}'], { env, cwd }));
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.equal(s.provider.requests.at(-1)?.authorization, `Bearer ${canary}`, 'the real sandbox used the key');
    assert.deepEqual((envelopeOf(run) as SuccessEnvelope).meta.secrets_present, ['OPENAI_API_KEY']);
    s.provider.failWith(401, JSON.stringify({ error: { message: `invalid key ${canary}` } }));
    const failed = note(await s.h.modalctl(['run', '--ref', 'llm/litellm@1', '--env', 'secrets', '--mode', 'real', '--json', '--inputs-json', HELLO_INPUTS], { env, cwd }));
    assert.equal(failure(failed).code, 'ERR_PROVIDER');
    note(await s.h.modalctl(['run', '--ref', 'llm/litellm@1', '--env', 'secrets', '--json', '--inputs-json', HELLO_INPUTS], { env, cwd }));
    for (const args of [['status', '--env', 'secrets'], ['status', '--env', 'secrets', '--json'], ['logs', '--ref', 'llm/litellm@1', '--env', 'secrets', '--mode', 'real'], ['logs', '--ref', 'llm/litellm@1', '--env', 'secrets']]) note(await s.h.modalctl(args, { env }));
    seen.push(allText(cwd));

    const [realId, mockId] = [real, mock].map((r) => (JSON.parse(r.stdout) as { sandbox_id: string }).sandbox_id);
    const envOf = async (id: string | undefined) => (await engine().getContainer(s.h.standin.sandboxes().find((s) => s.id === id)?.containerName ?? '').inspect()).Config.Env ?? [];
    assert.ok((await envOf(realId)).includes(`OPENAI_API_KEY=${canary}`), 'inside the real sandbox');
    assert.ok(!(await envOf(mockId)).some((e) => e.includes(canary)), 'not in the mock sandbox');
    const rpcs = s.h.requests();
    assert.ok(rpcs.some((r) => r.method === 'SecretGetOrCreate' && r.line.includes(canary)), 'the secret RPC carried it');
    seen.push(...rpcs.filter((r) => r.method !== 'SecretGetOrCreate').map((r) => r.line));
    const found = seen.filter((text) => text.includes(canary));
    assert.equal(found.length, 0, `the canary leaked into: ${found.map((f) => f.slice(0, 200)).join(' || ')}`);
  });

});
