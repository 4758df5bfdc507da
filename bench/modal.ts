/**
 * Modal, from one run against the stand-in (tools/modal-standin):
 * - `start_ratio`: `modalctl start` (the whole CLI call) to healthy over the bare SDK doing the
 *   same in a fresh process (App, image by digest, sandbox with an encrypted port, its tunnel,
 *   the first /healthz) — goal <= 1.2;
 * - `warm_invoke_ratio`: a warm mock invoke through the tunnel (ModalAdapter) over the same
 *   invoke on a started local container (its runtime over the protocol, as ContainerAdapter
 *   does; a container of its own, so the shared `procctl-…-mock` one is left alone).
 * Needs a Docker engine and the local registry (bash .ci/services.sh).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { closeClients, FsArtifactStore, ModalAdapter, removeContainer, RuntimeAdapter, startContainer } from '../src/index.js';
import { startModalStandin } from '../tools/modal-standin/server.js';
import { makeCertificates, readCertificates } from '../tools/modal-standin/tls.js';
import { pinnedLitellm } from './support/pinned-litellm.js';
import { mockInvokeArgs, warmLatencies } from './support/warm-invokes.js';
import { reportRatio } from './stats.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 6);
const INVOKES = Number(process.env['BENCH_INVOKES'] ?? 200);
const root = fileURLToPath(new URL('../../', import.meta.url));
const modalctl = join(root, 'dist/src/cli/modalctl.js');
const bareStart = join(root, 'dist/bench/support/modal-bare-start.js');

// Node reads NODE_EXTRA_CA_CERTS once, at start-up: this process invokes through the tunnels too,
// so it runs itself again trusting the stand-in's CA, made first.
if (!process.env['PROCCTL_BENCH_TLS_DIR']) {
  const certificates = makeCertificates();
  const again = spawnSync(process.execPath, [fileURLToPath(import.meta.url)], { stdio: 'inherit', env: { ...process.env, PROCCTL_BENCH_TLS_DIR: certificates.dir, NODE_EXTRA_CA_CERTS: certificates.caFile } });
  process.exit(again.status ?? 1);
}

const { registryDir, snapshot, reference, digest } = await pinnedLitellm();

const standin = await startModalStandin({ tokenId: 'ak-bench', tokenSecret: 'as-bench', environments: ['bench'], certificates: readCertificates(process.env['PROCCTL_BENCH_TLS_DIR'] as string) });
const env: NodeJS.ProcessEnv = { ...process.env, PROCCTL_REGISTRY: registryDir, MODAL_SERVER_URL: standin.url, MODAL_TOKEN_ID: 'ak-bench', MODAL_TOKEN_SECRET: 'as-bench', NODE_EXTRA_CA_CERTS: standin.caFile, MODAL_CONFIG_PATH: join(registryDir, 'no-modal.toml') };
delete env['GIT_BRANCH'];
delete env['GIT_USER'];

/** A child process, timed; asynchronous, since the stand-in answers from this process. */
function timed(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<{ ms: number; stdout: string }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => (code === 0 ? resolve({ ms: performance.now() - t0, stdout }) : reject(new Error(`${args.join(' ')} exited ${code}: ${stderr}`))));
  });
}

const stop = (branch: string) => timed([modalctl, 'stop', '--ref', 'llm/litellm@1', '--env', 'bench'], { GIT_BRANCH: branch });
const starts: number[] = [];
const bare: number[] = [];
// Warm-up (image pulled, page caches filled), then alternate the two so drift hits both alike.
await timed([modalctl, 'start', '--ref', 'llm/litellm@1', '--env', 'bench'], { GIT_BRANCH: 'warm' });
await stop('warm');
await timed([bareStart, 'bench', reference, digest, 'bare-warm']);
for (let i = 0; i < RUNS; i++) {
  bare.push((await timed([bareStart, 'bench', reference, digest, `bare-${i}`])).ms);
  starts.push((await timed([modalctl, 'start', '--ref', 'llm/litellm@1', '--env', 'bench'], { GIT_BRANCH: `b${i}` })).ms);
  await stop(`b${i}`);
}
reportRatio('start_ratio', ['bare_sdk_start_to_healthy_ms', bare], ['modalctl_start_to_healthy_ms', starts]);

// Warm invokes: the same call through the tunnel and on a started local container.
await timed([modalctl, 'start', '--ref', 'llm/litellm@1', '--env', 'bench']);
// This process's Modal client reads the same settings a shell would.
Object.assign(process.env, { MODAL_SERVER_URL: standin.url, MODAL_TOKEN_ID: 'ak-bench', MODAL_TOKEN_SECRET: 'as-bench', MODAL_CONFIG_PATH: env['MODAL_CONFIG_PATH'] });
const store = new FsArtifactStore(mkdtempSync(join(tmpdir(), 'procctl-bench-store-')));
const onModal = new ModalAdapter({ store, env: 'bench', processEnv: env });
const local = await startContainer({ snapshot, mode: 'mock', scope: 'ephemeral' });
const onContainer = new RuntimeAdapter({ url: local.endpoint, token: local.token, store });
const args = mockInvokeArgs(snapshot, 'm');
const latencies = (adapter: Parameters<typeof warmLatencies>[0]) => warmLatencies(adapter, args, INVOKES);
const modalTimes = await latencies(onModal);
const containerTimes = await latencies(onContainer);
reportRatio('warm_invoke_ratio', ['container_invoke_p50_ms', containerTimes], ['modal_invoke_p50_ms', modalTimes], 3);
onContainer.close();
await onModal.close();
await closeClients();
await removeContainer(local.id, 0);
await standin.close();
