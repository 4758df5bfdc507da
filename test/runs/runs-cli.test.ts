/**
 * `procctl runs …` as a user types it, against the filesystem store and a real S3 server
 * (s3rver): runs made by `procctl run`, then listed, filtered, shown, printed, followed, removed
 * and collected.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- JSON read back from the CLI, checked field by field */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cleanEnv, runCli, tempDir, type CliResult } from '../helpers/cli.js';
import { FIXTURES, FIXTURE_REGISTRY } from '../helpers/paths.js';
import { S3ArtifactStore } from '../../src/index.js';
import { S3RVER_ACCESS_KEY_ID, s3Env, startS3rver, type S3Server } from '../helpers/s3rver.js';

interface StoreCase {
  name: string;
  location: () => string;
  env: () => NodeJS.ProcessEnv;
  keys: () => Promise<string[]>;
  /** Removes the whole index, past the CLI: what a store written by an older procctl looks like. */
  dropIndex: () => Promise<void>;
}

const echo = (params: Record<string, unknown>) => JSON.stringify({ schema: 'v1', params });
const lines = (r: CliResult) => r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

/** The echo processor with time to spare: a live run waits on the test, longer than the fixture's 1 s. */
const SLOW_REGISTRY = tempDir('procctl-runs-reg-');
cpSync(FIXTURE_REGISTRY, SLOW_REGISTRY, { recursive: true });
const entry = join(SLOW_REGISTRY, 'testing-echo-v1', 'registry.yaml');
writeFileSync(entry, readFileSync(entry, 'utf8').replace(/timeout_s: 1\b/, 'timeout_s: 60'));

let s3: S3Server;
const fsRoot = tempDir('procctl-runs-fs-');
const cases: StoreCase[] = [
  { name: 'filesystem store', location: () => join(fsRoot, 'artifacts'), env: () => cleanEnv(), keys: async () => listFs(join(fsRoot, 'artifacts')), dropIndex: async () => rmSync(join(fsRoot, 'artifacts', 'index'), { recursive: true }) },
  { name: 'S3 store (s3rver)', location: () => `s3://${s3.bucket}/runs`, env: () => cleanEnv(s3Env(s3.endpoint, 'test-secret')), keys: async () => (await s3.keys('runs/')).map((k) => k.slice('runs/'.length)),
    dropIndex: async () => {
      const raw = new S3ArtifactStore(`s3://${s3.bucket}/runs`, { endpoint: s3.endpoint, credentials: { accessKeyId: S3RVER_ACCESS_KEY_ID, secretAccessKey: 'x' } });
      await raw.remove(await raw.list('index/'));
    },
  },
];

async function listFs(root: string): Promise<string[]> {
  const { readdirSync } = await import('node:fs');
  if (!existsSync(root)) return [];
  return (readdirSync(root, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[]).filter((d) => d.isFile()).map((d) => join(d.parentPath, d.name).slice(root.length + 1)).sort();
}

before(async () => {
  s3 = await startS3rver();
});
after(async () => {
  await s3.stop();
});

for (const store of cases) {
  describe(`procctl runs over the ${store.name}`, () => {
    const cwd = tempDir();
    const run = (id: string, params: Record<string, unknown>, extra: string[] = []) =>
      runCli(['run', '--ref', 'testing/echo@1', '--registry', SLOW_REGISTRY, '--execution-id', id, '--artifacts', store.location(), '--inputs-json', echo(params), '--json', ...extra], { cwd, env: store.env() });
    const runs = (args: string[]) => runCli(['runs', ...args, '--artifacts', store.location()], { cwd, env: store.env() });
    const photo = join(FIXTURES, 'photo.png');

    before(async () => {
      assert.equal((await run('r-text', { outputs: [{ path: 'hello.txt', text: 'hello world\n', mime: 'text/plain' }], tokens: 3, progress: true })).code, 0);
      assert.equal((await run('r-img', { attachments: [{ $attach: 'photo' }] }, ['--attach', `photo=${photo}`])).code, 0);
      assert.equal((await run('r-img2', { attachments: [{ $attach: 'photo' }] }, ['--attach', `photo=${photo}`])).code, 0);
      assert.equal((await run('r-fail', { fail: 'boom' })).code, 10);
    });

    test('list shows every run newest first, with filters and --json lines', async () => {
      const all = lines(await runs(['list', '--json']));
      assert.deepEqual(all.map((r) => r['execution_id']), ['r-fail', 'r-img2', 'r-img', 'r-text']);
      assert.deepEqual(all[0], { execution_id: 'r-fail', ref: 'testing/echo@1', mode: 'mock', status: 'error', error_code: 'ERR_PROCESSOR_FAILED', started_at: all[0]!['started_at'] });
      assert.deepEqual(lines(await runs(['list', '--json', '--status', 'success'])).map((r) => r['execution_id']), ['r-img2', 'r-img', 'r-text']);
      assert.deepEqual(lines(await runs(['list', '--json', '--error-code', 'ERR_PROCESSOR_FAILED'])).map((r) => r['execution_id']), ['r-fail']);
      assert.equal(lines(await runs(['list', '--json', '--ref', 'testing/echo'])).length, 4);
      assert.equal(lines(await runs(['list', '--json', '--ref', 'llm/litellm@1'])).length, 0);
      assert.equal(lines(await runs(['list', '--json', '--mode', 'real'])).length, 0);
      assert.equal(lines(await runs(['list', '--json', '--limit', '2'])).length, 2);
      const middle = all[2]!['started_at'] as string;
      assert.deepEqual(lines(await runs(['list', '--json', '--since', middle])).map((r) => r['execution_id']), ['r-fail', 'r-img2', 'r-img']);
      assert.deepEqual(lines(await runs(['list', '--json', '--until', middle])).map((r) => r['execution_id']), ['r-text']);
      assert.equal(lines(await runs(['list', '--json', '--since', '1h'])).length, 4);
      const table = await runs(['list']);
      assert.match(table.stdout, /^EXECUTION\s+STARTED\s+STATUS/);
      assert.match(table.stdout, /r-fail .* error .* ERR_PROCESSOR_FAILED/);
      const bad = await runs(['list', '--since', 'yesterday']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /error ERR_USAGE: --since "yesterday" is not an age/);
    });

    test('show gives envelope, receipt, inputs and outputs; an unknown id is ERR_RUN_NOT_FOUND', async () => {
      const detail = JSON.parse((await runs(['show', 'r-img', '--json'])).stdout) as Record<string, any>;
      assert.equal(detail['prefix'], 'executions/r-img/');
      assert.equal(detail['envelope']['status'], 'success');
      assert.equal(detail['receipt']['execution_id'], 'r-img');
      assert.equal(detail['inputs']['params']['attachments'][0]['mime'], 'image/png');
      assert.equal(detail['outputs'][0]['path'], 'executions/r-img/outputs/attachments/0.bin');
      const human = await runs(['show', 'r-text']);
      assert.match(human.stdout, /inputs {4}sha256:[0-9a-f]{64}/);
      assert.match(human.stdout, /output {4}hello\.txt {2}text\/plain/);
      const missing = await runs(['show', 'nope']);
      assert.equal(missing.code, 4);
      assert.match(missing.stderr, /^error ERR_RUN_NOT_FOUND: no execution nope in /);
      const invalid = await runs(['show', '../etc']);
      assert.equal(invalid.code, 3);
      assert.match(invalid.stderr, /ERR_EXECUTION_ID/);
    });

    test('cat prints an output byte for byte, by either path', async () => {
      assert.equal((await runs(['cat', 'r-text', 'hello.txt'])).stdout, 'hello world\n');
      assert.equal((await runs(['cat', 'r-text', 'executions/r-text/outputs/hello.txt'])).stdout, 'hello world\n');
      const absent = await runs(['cat', 'r-text', 'nope.txt']);
      assert.equal(absent.code, 4);
      assert.match(absent.stderr, /has no output "nope.txt" \(it has: hello.txt\)/);
    });

    test('logs prints the stored events with tokens joined; --json the lines', async () => {
      const text = await runs(['logs', 'r-text']);
      assert.match(text.stdout, /\[info\] echo mock r-text\n\[progress\] 50% halfway\nt0 t1 t2 \n/);
      const events = lines(await runs(['logs', 'r-text', '--json']));
      assert.deepEqual(events.map((e) => e['kind']), ['log', 'progress', 'token', 'token', 'token']);
      assert.ok(events.every((e) => typeof e['t_ms'] === 'number'));
      assert.match((await runs(['logs', 'r-fail'])).stdout, /echo mock r-fail/);
    });

    test('logs --follow follows a run still going until it ends', async () => {
      const gate = join(tempDir(), 'go');
      const live = run('r-live', { tokens: 2, wait_for_file: gate });
      let seenRunning = false;
      for (let i = 0; i < 200 && !seenRunning; i++) {
        seenRunning = lines(await runs(['list', '--json', '--status', 'running'])).some((r) => r['execution_id'] === 'r-live');
        if (!seenRunning) await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(seenRunning, 'the live run is listed as running');
      const follow = runCli(['runs', 'logs', 'r-live', '--follow', '--artifacts', store.location()], { cwd, env: store.env() });
      await new Promise((r) => setTimeout(r, 1500));
      writeFileSync(gate, '');
      const [followed, done] = await Promise.all([follow, live]);
      assert.equal(done.code, 0);
      assert.equal(followed.code, 0);
      assert.match(followed.stdout, /echo mock r-live\nt0 t1 \n$/);
      assert.equal(lines(await runs(['list', '--json', '--status', 'success'])).filter((r) => r['execution_id'] === 'r-live').length, 1);
    });

    test('the index rebuilds from the records alone (an older store, or another machine)', async () => {
      const before = lines(await runs(['list', '--json', '--limit', '0']));
      const keys = await store.keys();
      assert.ok(keys.some((k) => k.startsWith('index/runs/')));
      // Another writer's runs, not in this index: --reindex finds them.
      const other = await runCli(['run', '--ref', 'testing/echo@1', '--registry', FIXTURE_REGISTRY, '--execution-id', 'r-custom', '--write-prefix', 'custom/{execution_id}/', '--artifacts', store.location(), '--inputs-json', echo({ outputs: [{ path: 'a.txt', text: 'a' }] })], { cwd, env: store.env() });
      assert.equal(other.code, 0, other.stderr);
      await store.dropIndex();
      const rebuilt = lines(await runs(['list', '--json', '--limit', '0']));
      assert.deepEqual(rebuilt, [lines(await runs(['list', '--json', '--limit', '1']))[0], ...before]);
      assert.equal(rebuilt[0]!['execution_id'], 'r-custom');
      assert.equal((await runs(['cat', 'r-custom', 'a.txt'])).stdout, 'a', 'the rebuilt index knows the custom prefix');
      assert.deepEqual(lines(await runs(['list', '--json', '--limit', '0', '--reindex'])), rebuilt);
    });

    test('rm removes a run and its index entry, not another run or a shared attachment', async () => {
      const dry = await runs(['rm', 'r-img', '--dry-run']);
      assert.match(dry.stdout, /would remove r-img \(\d+ objects under executions\/r-img\/\)/);
      assert.ok((await store.keys()).some((k) => k.startsWith('executions/r-img/')));
      const typo = await runs(['rm', 'r-img', 'nope']);
      assert.equal(typo.code, 4);
      assert.ok((await store.keys()).some((k) => k.startsWith('executions/r-img/')), 'a typo removes nothing');
      assert.equal((await runs(['rm', 'r-img'])).code, 0);
      const keys = await store.keys();
      assert.ok(!keys.some((k) => k.startsWith('executions/r-img/') || k.endsWith('~r-img') || k === 'index/ids/r-img'));
      assert.ok(keys.some((k) => k.startsWith('inputs/sha256/')), 'r-img2 still needs the photo');
      assert.equal((await runs(['show', 'r-img'])).code, 4);
      assert.equal((await runs(['cat', 'r-img2', 'attachments/0.bin'])).stdout.length > 0, true);
    });

    test('gc removes old runs, then only attachments no remaining run refers to', async () => {
      const dry = JSON.parse((await runs(['gc', '--older-than', '0s', '--dry-run', '--json'])).stdout) as Record<string, any>;
      assert.equal(dry['dry_run'], true);
      assert.ok(dry['runs_removed'].length >= 4);
      assert.ok((await store.keys()).some((k) => k.startsWith('executions/r-text/')), 'dry run removes nothing');
      const keep = JSON.parse((await runs(['gc', '--json'])).stdout) as Record<string, any>;
      assert.deepEqual(keep['attachments_removed'], [], 'r-img2 still refers to the photo');
      assert.equal((await runs(['rm', 'r-img2'])).code, 0);
      const report = JSON.parse((await runs(['gc', '--json'])).stdout) as Record<string, any>;
      assert.equal(report['attachments_removed'].length, 1);
      assert.ok(!(await store.keys()).some((k) => k.startsWith('inputs/')));
      const old = JSON.parse((await runs(['gc', '--older-than', '0s', '--json'])).stdout) as Record<string, any>;
      assert.ok(old['runs_removed'].length >= 3);
      assert.equal((await runs(['list'])).stdout, 'no runs\n');
      assert.equal((await runs(['gc', '--older-than', 'ages'])).code, 2);
    });
  });
}

test('a run in another placement (the runtime as a child process) stores its events too', async () => {
  const cwd = tempDir();
  const artifacts = join(cwd, 'a');
  const made = await runCli(['run', '--ref', 'testing/echo@1', '--registry', FIXTURE_REGISTRY, '--placement', 'process', '--execution-id', 'p1', '--artifacts', artifacts, '--inputs-json', echo({ tokens: 3 })], { cwd });
  assert.equal(made.code, 0, made.stderr);
  const shown = await runCli(['runs', 'logs', 'p1', '--artifacts', artifacts], { cwd });
  assert.equal(shown.stdout, '[info] echo mock p1\nt0 t1 t2 \n');
});

test('logs --follow stops on a run whose process is gone (no envelope, no heartbeat for a minute)', async () => {
  const cwd = tempDir();
  const artifacts = join(cwd, 'a');
  mkdirSync(join(artifacts, 'executions/dead'), { recursive: true });
  const started = new Date(Date.now() - 120_000).toISOString();
  writeFileSync(join(artifacts, 'executions/dead/run.json'), JSON.stringify({ execution_id: 'dead', ref: 'testing/echo@1', mode: 'mock', started_at: started }));
  writeFileSync(join(artifacts, 'executions/dead/events.jsonl'), '{"kind":"token","t_ms":1,"text":"half a repl"}\n');
  const followed = await runCli(['runs', 'logs', 'dead', '--follow', '--artifacts', artifacts], { cwd });
  assert.equal(followed.code, 0);
  assert.equal(followed.stdout, 'half a repl\n');
  assert.match(followed.stderr, /execution dead has no envelope and no heartbeat for a minute: its process is gone/);
  assert.equal(JSON.parse((await runCli(['runs', 'list', '--json', '--artifacts', artifacts], { cwd })).stdout)['status'], 'running', 'rebuilt from its start record');
});

test('cat refuses bytes that do not match their content id', async () => {
  const cwd = tempDir();
  const artifacts = join(cwd, 'a');
  const made = await runCli(['run', '--ref', 'testing/echo@1', '--registry', FIXTURE_REGISTRY, '--execution-id', 'c1', '--artifacts', artifacts, '--inputs-json', echo({ outputs: [{ path: 'x.txt', text: 'right' }] })], { cwd });
  assert.equal(made.code, 0);
  writeFileSync(join(artifacts, 'executions/c1/outputs/x.txt'), 'wrong');
  const result = await runCli(['runs', 'cat', 'c1', 'x.txt', '--artifacts', artifacts], { cwd });
  assert.equal(result.code, 6);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /^error ERR_ARTIFACT_STORE: executions\/c1\/outputs\/x\.txt .* does not match its content id/);
  rmSync(join(artifacts, 'index'), { recursive: true });
  assert.equal(JSON.parse((await runCli(['runs', 'list', '--json', '--artifacts', artifacts], { cwd })).stdout)['execution_id'], 'c1', 'no index: built from the records');
});
