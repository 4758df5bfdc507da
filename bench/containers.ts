/**
 * Containers, from one run:
 * - `start_ratio`: start-to-healthy of `localctl start` (the whole CLI call) over a bare
 *   `docker run -d` (the docker CLI) of the same image, same network, to its first /healthz
 *   answer (goal <= 1.3);
 * - `library_start_ratio`: the same without process start-up on either side (startContainer() from a
 *   warm process over the same create/start/poll through the Engine API): procctl's own start logic;
 * - `warm_invoke_ratio`: a warm mock invoke through the started container over the same invoke
 *   in-process (the price of the container boundary);
 * - `warm_cli_run_ratio`: a whole `localctl run` against the started container over a whole
 *   `procctl run --placement in-process`, same inputs, interleaved (goal <= 1.5, issue 12).
 * And what the start_ratio goal is up against: `start_goal_budget_ms`, all that 1.3x leaves for
 * whatever localctl adds to the engine's work, next to `cli_overhead_ms` (localctl's whole call
 * minus the same start as a library call), `node_boot_ms` (`node -e 0`) and
 * `docker_client_load_ms` (a fresh process requiring dockerode, minus node_boot_ms).
 * Needs a Docker engine and the local registry (bash .ci/services.sh).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ContainerAdapter, engine, FsArtifactStore, HEALTH_POLL_MS, InProcessAdapter, MOCK_NETWORK, removeContainer, startContainer } from '../src/index.js';
import { pinnedLitellm } from './support/pinned-litellm.js';
import { mockInvokeArgs, warmLatencies } from './support/warm-invokes.js';
import { median, report, reportRatio, timeProcess } from './stats.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 8);
const INVOKES = Number(process.env['BENCH_INVOKES'] ?? 200);
const CLI_RUNS = Number(process.env['BENCH_CLI_RUNS'] ?? 20);
const root = fileURLToPath(new URL('../../', import.meta.url));
const localctl = join(root, 'dist/src/cli/localctl.js');

const { registryDir, snapshot, reference, digest } = await pinnedLitellm();
const env = { ...process.env, PROCCTL_REGISTRY: registryDir };

function timeBin(bin: string, args: string[], cwd?: string): number {
  const t0 = performance.now();
  const result = spawnSync(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'], ...(cwd && { cwd }) });
  if (result.status !== 0) throw new Error(`${bin} ${args.join(' ')}: ${result.stderr.toString()}`);
  return performance.now() - t0;
}
const timeLocalctl = (args: string[], cwd?: string) => timeBin(localctl, args, cwd);

/** Polls a bare container's /healthz on the mock network, as often as localctl does. */
async function healthyOnMockNetwork(id: string): Promise<void> {
  const ip = (await engine().getContainer(id).inspect()).NetworkSettings.Networks[MOCK_NETWORK]?.IPAddress;
  for (;;) {
    try {
      if ((await fetch(`http://${ip}:8080/healthz`)).ok) return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, HEALTH_POLL_MS));
    }
  }
}

/** The baseline: the docker CLI's own `docker run -d` of the same image, to its first /healthz. */
async function bareRunToHealthy(): Promise<number> {
  const t0 = performance.now();
  const run = spawnSync('docker', ['run', '-d', '--init', '--network', MOCK_NETWORK, '-e', `PROCCTL_RUNTIME_TOKEN=${randomBytes(16).toString('hex')}`, '-e', `PROCCTL_IMAGE_DIGEST=${digest}`, reference]);
  if (run.status !== 0) throw new Error(`docker run: ${run.stderr.toString()}`);
  const id = run.stdout.toString().trim();
  await healthyOnMockNetwork(id);
  const elapsed = performance.now() - t0;
  await removeContainer(id, 0);
  return elapsed;
}

/** The same bare run through the Engine API from this (warm) process: the engine's own cost. */
async function bareApiRunToHealthy(): Promise<number> {
  const t0 = performance.now();
  const container = await engine().createContainer({
    Image: reference,
    Env: [`PROCCTL_RUNTIME_TOKEN=${randomBytes(16).toString('hex')}`, `PROCCTL_IMAGE_DIGEST=${digest}`],
    HostConfig: { NetworkMode: MOCK_NETWORK, Init: true },
  });
  await container.start();
  await healthyOnMockNetwork(container.id);
  const elapsed = performance.now() - t0;
  await removeContainer(container.id, 0);
  return elapsed;
}

/** localctl's start as a library call from a warm process: its checks, network, limits, health wait. */
async function libraryStartToHealthy(): Promise<number> {
  const t0 = performance.now();
  const handle = await startContainer({ snapshot, mode: 'mock', scope: 'started' });
  const elapsed = performance.now() - t0;
  await removeContainer(handle.id, 1);
  return elapsed;
}

// Warm-up: the image pulled, the network made, page caches filled — for both sides alike.
timeLocalctl(['start', '--ref', 'llm/litellm@1']);
timeLocalctl(['stop', '--ref', 'llm/litellm@1', '--grace', '1']);
await bareRunToHealthy();
await bareApiRunToHealthy();
await libraryStartToHealthy();

const starts: number[] = [];
const bare: number[] = [];
const bareApi: number[] = [];
const libraryStarts: number[] = [];
const nodeBoots: number[] = [];
const clientLoads: number[] = [];
for (let i = 0; i < RUNS; i++) {
  nodeBoots.push(timeProcess(process.execPath, ['-e', '0']));
  clientLoads.push(timeProcess(process.execPath, ['-e', "require('dockerode')"], { cwd: root }));
  bare.push(await bareRunToHealthy());
  starts.push(timeLocalctl(['start', '--ref', 'llm/litellm@1']));
  timeLocalctl(['stop', '--ref', 'llm/litellm@1', '--grace', '1']);
  bareApi.push(await bareApiRunToHealthy());
  libraryStarts.push(await libraryStartToHealthy());
}
reportRatio('start_ratio', ['bare_run_to_healthy_ms', bare], ['localctl_start_to_healthy_ms', starts]);
// The same comparison without process start-up on either side (no node boot and Docker client
// load for localctl, no Go CLI for docker): what procctl's own start logic adds to the engine's work.
reportRatio('library_start_ratio', ['bare_api_run_to_healthy_ms', bareApi], ['library_start_to_healthy_ms', libraryStarts]);
report('start_goal_budget_ms', 0.3 * median(bare), 1);
report('cli_overhead_ms', median(starts) - median(libraryStarts), 1);
report('node_boot_ms', median(nodeBoots), 1);
report('docker_client_load_ms', median(clientLoads) - median(nodeBoots), 1);

// Warm invokes: the same call through the started container and in-process.
timeLocalctl(['start', '--ref', 'llm/litellm@1']);
const store = new FsArtifactStore(mkdtempSync(join(tmpdir(), 'procctl-bench-store-')));
const container = new ContainerAdapter({ store, policy: 'started' });
const inProcess = new InProcessAdapter({ store, registryDir });
const args = mockInvokeArgs(snapshot, 'b');
const latencies = (adapter: Parameters<typeof warmLatencies>[0]) => warmLatencies(adapter, args, INVOKES);
const containerTimes = await latencies(container);
const inProcessTimes = await latencies(inProcess);
container.close();

// Whole CLI calls, same inputs: localctl run against the started container (its warm path) and
// procctl run in-process. One untimed call of each fills the caches both would have on a second use.
const procctl = join(root, 'dist/src/cli/procctl.js');
const cliCwd = mkdtempSync(join(tmpdir(), 'procctl-bench-cli-'));
const runFlags = ['--ref', 'llm/litellm@1', '--inputs-json', '{"schema":"v1","params":{"messages":[{"role":"user","content":"Hello"}]}}', '--json'];
const warmCli: number[] = [];
const inProcessCli: number[] = [];
timeLocalctl(['run', ...runFlags], cliCwd);
timeBin(procctl, ['run', '--placement', 'in-process', ...runFlags], cliCwd);
for (let i = 0; i < CLI_RUNS; i++) {
  warmCli.push(timeLocalctl(['run', ...runFlags], cliCwd));
  inProcessCli.push(timeBin(procctl, ['run', '--placement', 'in-process', ...runFlags], cliCwd));
}
timeLocalctl(['stop', '--ref', 'llm/litellm@1', '--grace', '1']);
reportRatio('warm_invoke_ratio', ['in_process_invoke_p50_ms', inProcessTimes], ['container_invoke_p50_ms', containerTimes], 3);
reportRatio('warm_cli_run_ratio', ['procctl_run_in_process_median_ms', inProcessCli], ['localctl_run_warm_median_ms', warmCli]);
