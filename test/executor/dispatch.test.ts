// `exec` (registerExecCommand → dispatchExecutor): workspace runs here, kubernetes is not there
// yet, docker runs the payload in the executor image on the local engine. The Docker part builds
// the image with build-executor.sh, smoke-tests it with smoke.sh, then dispatches real payloads.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import Docker from 'dockerode';
import { STARTED_MARKER } from '../../src/executor/contract.js';
import { REPO, dockerUnavailable, needDocker, payload, runExec, tempDir } from './helpers.js';

const json = (doc: Record<string, unknown>): string => JSON.stringify(doc);

describe('exec without Docker', () => {
  it('runs a workspace payload right here, printing the executor contract', async () => {
    const run = await runExec(['--payload-json', json(payload({ shell_command: 'echo here; exit 6', request_id: 'w1' }))]);
    assert.equal(run.code, 6);
    assert.equal(run.lines[0], STARTED_MARKER);
    assert.equal(run.result.status, 'failed');
    assert.equal(run.result.exit_code, 6);
    assert.equal(run.result.stdout, 'here\n');
    assert.equal(run.result.request_id, 'w1');
    assert.equal(run.result.provider_metadata.provider, 'workspace');
  });

  it('lets --provider override the payload provider', async () => {
    const run = await runExec(['--provider', 'workspace', '--payload-json', json(payload({ provider: 'docker', command: ['true'] }))]);
    assert.equal(run.result.status, 'success');
    assert.equal(run.result.provider_metadata.provider, 'workspace');
  });

  it('dispatches a payload whose provider is kubernetes to a cluster, failing dispatch when no kubeconfig names one', async () => {
    const run = await runExec(['--payload-json', json(payload({ provider: 'kubernetes', command: ['true'] }))], { env: { KUBECONFIG: '/nonexistent/kubeconfig' } });
    assert.equal(run.code, 4);
    assert.equal(run.result.status, 'dispatch_failed');
    assert.equal((run.result.provider_metadata.dispatch as { provider?: string }).provider, 'kubernetes');
    assert.match(run.result.error?.message ?? '', /cannot load a kubeconfig: KUBECONFIG names no file that exists \(\/nonexistent\/kubeconfig\)/);
  });

  it('validates the payload before dispatching anywhere', async () => {
    const run = await runExec(['--provider', 'docker', '--payload-json', json({ contract_version: 'v1', provider: 'docker' })]);
    assert.equal(run.code, 2);
    assert.equal(run.result.status, 'infra_error');
    assert.equal(run.result.error?.code, 'invalid_payload');
  });

  it('reports an unreachable engine as dispatch_failed, exit 4', async () => {
    const run = await runExec([
      '--provider',
      'docker',
      '--docker-socket',
      join(tempDir(), 'no-engine.sock'),
      '--payload-json',
      json(payload({ command: ['true'] })),
    ]);
    assert.equal(run.code, 4);
    assert.equal(run.result.status, 'dispatch_failed');
    assert.equal(run.result.error?.details?.retryable, true);
    assert.match(run.result.error?.message ?? '', /not reachable/);
  });
});

/** A Unix-socket proxy in front of the real engine that a test can cut, as if the engine died. */
async function engineProxy(): Promise<{ path: string; cut: () => void; close: () => Promise<void> }> {
  const path = join(tempDir('llmctl-proxy-'), 'docker.sock');
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection('/var/run/docker.sock');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    path,
    cut: () => {
      server.close();
      for (const s of sockets) s.destroy();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('exec --provider docker', () => {
  const image = `llmctl-executor:test-${process.pid}`;
  let built: { ok: boolean; output: string } | undefined;

  before(async () => {
    if ((await dockerUnavailable()) !== undefined) return;
    // Defaults except the tag: this is also the check that the default build works here.
    const res = spawnSync('bash', [join(REPO, 'app/llmctl-executor/build-executor.sh')], {
      env: { ...process.env, IMAGE_NAME: image },
      encoding: 'utf8',
    });
    built = { ok: res.status === 0, output: `${res.stdout}\n${res.stderr}` };
  });

  after(() => {
    if (built?.ok) spawnSync('docker', ['rmi', '-f', image], { stdio: 'ignore' });
  });

  async function ready(t: TestContext): Promise<boolean> {
    if (!(await needDocker(t))) return false;
    assert.ok(built?.ok, `build-executor.sh failed:\n${built?.output}`);
    return true;
  }

  const docker = (...args: string[]): ReturnType<typeof runExec> =>
    runExec(['--provider', 'docker', '--image', image, ...args], { env: { LLMCTL_EXECUTOR_KILL_GRACE_SECONDS: '1' } });

  it('smoke.sh passes against the freshly built image', async (t) => {
    if (!(await ready(t))) return;
    const res = spawnSync('bash', [join(REPO, 'app/llmctl-executor/smoke.sh')], { env: { ...process.env, IMAGE_NAME: image }, encoding: 'utf8' });
    assert.equal(res.status, 0, `${res.stdout}\n${res.stderr}`);
    assert.match(res.stdout, /smoke: \d+ passed, 0 failed/);
  });

  it('runs the payload in a container and parses markers and result back', async (t) => {
    if (!(await ready(t))) return;
    const run = await docker('--payload-json', json(payload({ shell_command: 'echo in-container; exit 7', request_id: 'd1' })));
    assert.equal(run.code, 7);
    assert.deepEqual(run.lines.slice(0, 1), [STARTED_MARKER]);
    assert.equal(JSON.parse(run.lines[1] ?? '{}').event, 'executor_started');
    assert.equal(run.result.status, 'failed');
    assert.equal(run.result.exit_code, 7);
    assert.equal(run.result.stdout, 'in-container\n');
    assert.equal(run.result.request_id, 'd1');
    const meta = run.result.provider_metadata as { provider: string; dispatch: { container_id: string; image: string; container_exit_code: number } };
    assert.equal(meta.provider, 'docker');
    assert.equal(meta.dispatch.image, image);
    assert.equal(meta.dispatch.container_exit_code, 7);
    // The container is removed afterwards.
    const left = await new Docker({ version: 'v1.41' }).listContainers({ all: true, filters: { id: [meta.dispatch.container_id] } });
    assert.equal(left.length, 0);
  });

  it('carries a large payload and keeps payload.env out of the container config', async (t) => {
    if (!(await ready(t))) return;
    const big = 'y'.repeat(512 * 1024); // beyond what one environment string may hold
    const file = join(tempDir(), 'payload.json');
    writeFileSync(file, json(payload({ shell_command: 'wc -c; echo "$SECRET_TOKEN"', stdin: big, env: { SECRET_TOKEN: 's3cr3t' } })));
    const run = await docker('--keep-container', '--payload-file', file);
    const id = (run.result.provider_metadata as { dispatch: { container_id: string } }).dispatch.container_id;
    const engine = new Docker({ version: 'v1.41' });
    try {
      assert.equal(run.result.status, 'success');
      assert.equal(run.result.stdout, `${big.length}\ns3cr3t\n`);
      const info = await engine.getContainer(id).inspect();
      assert.ok(!JSON.stringify(info.Config).includes('s3cr3t'), 'payload env leaked into the container config');
    } finally {
      await engine.getContainer(id).remove({ force: true });
    }
  });

  it('reports a timeout inside the container as timeout, exit 124', async (t) => {
    if (!(await ready(t))) return;
    const run = await docker('--payload-json', json(payload({ shell_command: 'sleep 120', timeout_seconds: 1 })));
    assert.equal(run.code, 124);
    assert.equal(run.result.status, 'timeout');
  });

  it('cancels: SIGTERM to exec stops the container, status cancelled, exit 130', async (t) => {
    if (!(await ready(t))) return;
    const run = await runExec(['--provider', 'docker', '--image', image, '--payload-json', json(payload({ shell_command: 'sleep 120' }))], {
      env: { LLMCTL_EXECUTOR_KILL_GRACE_SECONDS: '1' },
      onLine: (line, child) => {
        if (line === STARTED_MARKER) setTimeout(() => child.kill('SIGTERM'), 300);
      },
    });
    assert.equal(run.code, 130);
    assert.equal(run.result.status, 'cancelled');
  });

  it('reports a missing image as dispatch_failed without reaching any registry', async (t) => {
    if (!(await ready(t))) return;
    const run = await runExec(['--provider', 'docker', '--image', 'procctl/no-such-executor:0', '--payload-json', json(payload({ command: ['true'] }))]);
    assert.equal(run.code, 4);
    assert.equal(run.result.status, 'dispatch_failed');
    assert.match(run.result.error?.message ?? '', /not present on the Docker engine/);
    assert.equal(run.result.error?.details?.retryable, true);
  });

  it('reports an image whose entrypoint is not the executor as dispatch_failed', async (t) => {
    if (!(await ready(t))) return;
    // The base image has node but no executor entrypoint: the container starts and dies before
    // any start marker, so the command certainly never ran.
    const run = await runExec(['--provider', 'docker', '--image', 'procctl/node-base:20', '--payload-json', json(payload({ command: ['true'] }))]);
    assert.equal(run.code, 4);
    assert.equal(run.result.status, 'dispatch_failed');
    assert.match(run.result.error?.message ?? '', /before the executor started the command/);
  });

  it('reports losing the engine mid-run as dispatch_uncertain, exit 5, not retryable', async (t) => {
    if (!(await ready(t))) return;
    const proxy = await engineProxy();
    const requestId = `uncertain-${process.pid}-${Date.now()}`;
    try {
      const run = await runExec(
        ['--provider', 'docker', '--image', image, '--docker-socket', proxy.path, '--payload-json', json(payload({ shell_command: 'sleep 120', request_id: requestId }))],
        {
          onLine: (line) => {
            if (line === STARTED_MARKER) setTimeout(() => proxy.cut(), 200);
          },
        },
      );
      assert.equal(run.code, 5);
      assert.equal(run.result.status, 'dispatch_uncertain');
      assert.equal(run.result.error?.details?.retryable, false);
      assert.match(run.result.error?.message ?? '', /lost contact with the Docker engine/);
      // With the engine gone the container could not be removed either, and the result says so.
      assert.ok(run.result.warnings?.some((w) => /could not be removed/.test(w)), JSON.stringify(run.result.warnings));
    } finally {
      await proxy.close().catch(() => {});
      const engine = new Docker({ version: 'v1.41' });
      for (const c of await engine.listContainers({ all: true, filters: { label: [`procctl.executor.request_id=${requestId}`] } }))
        await engine.getContainer(c.Id).remove({ force: true });
    }
  });
});

describe('build-executor.sh refusals', () => {
  const build = (env: Record<string, string>): ReturnType<typeof spawnSync> =>
    spawnSync('bash', [join(REPO, 'app/llmctl-executor/build-executor.sh')], {
      env: { ...process.env, IMAGE_NAME: `llmctl-executor:refused-${process.pid}`, ...env },
      encoding: 'utf8',
    });

  it('rejects a build argument that is not true/false', () => {
    const res = build({ INSTALL_CLAUDE: 'maybe' });
    assert.notEqual(res.status, 0);
    assert.match(String(res.stderr), /INSTALL_CLAUDE must be true or false/);
  });

  it('refuses INSTALL_VLLM=true here, saying what cannot be fetched', async (t) => {
    if (!(await needDocker(t))) return;
    const res = build({ INSTALL_VLLM: 'true' });
    assert.notEqual(res.status, 0);
    assert.match(String(res.stderr), /python3/);
    assert.match(String(res.stderr), /PyPI/);
  });

  it('refuses a public base image it cannot pull, saying so', async (t) => {
    if (!(await needDocker(t))) return;
    const res = build({ EXECUTOR_BASE_IMAGE: 'nvidia/cuda:12.8.0-cudnn-runtime-ubuntu24.04' });
    assert.notEqual(res.status, 0);
    assert.match(String(res.stderr), /not present locally and cannot be fetched/);
  });
});
