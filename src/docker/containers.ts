/**
 * Processor containers: created from the pinned digest with the registry's limits, a fresh bearer
 * token, and — in real mode only — the declared secrets and config from the caller's environment.
 * Everything procctl knows about a container it reads back from the engine (labels, env, network).
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import type Dockerode from 'dockerode';
import { ProcctlError } from '../contracts/errors.js';
import type { Mode } from '../contracts/inputs.js';
import type { RegistrySnapshot } from '../registry/registry.js';
import { requireSecrets, secretsPresentIn } from '../api/secrets.js';
import { handlerThreadsFor } from '../runtime/handler-threads.js';
import { describeEngineError, engine, engineUnavailable, isUnreachable, requireEngine, statusOf } from './engine.js';
import { createContainer, inspectContainer, pingEngine, startCreated } from './engine-api.js';
import { pullByDigest, RUNTIME_PORT, type Progress } from './images.js';
import type { ContainerHandle } from './handle.js';
import { containerLabels, LABEL, startedContainerName, type Scope } from './labels.js';
import { writeLogs } from './logs.js';
import { runtimeHealth } from '../protocol/health.js';
import { ensureMockNetwork, guardHost, MOCK_NETWORK } from './network.js';
import { pinnedReference } from './pinned.js';
import { writeStartedEntry } from './started-cache.js';

export interface StartOptions {
  snapshot: RegistrySnapshot;
  mode: Mode;
  scope: Scope;
  env?: NodeJS.ProcessEnv;
  progress?: Progress;
  /** How long to wait for /healthz, in milliseconds. */
  healthTimeoutMs?: number;
}

const TOKEN_ENV = 'PROCCTL_RUNTIME_TOKEN';

/** The declared secrets and config a container gets from this environment: real mode only, so a mock container never holds a credential. */
function passedThrough(snapshot: RegistrySnapshot, mode: Mode, env: NodeJS.ProcessEnv): Map<string, string> {
  const passed = new Map<string, string>();
  if (mode === 'mock') return passed;
  for (const name of secretsPresentIn(snapshot.entry, env)) passed.set(name, env[name] as string);
  for (const name of snapshot.entry.config ?? []) if (env[name] !== undefined) passed.set(name, env[name]);
  return passed;
}

/**
 * How long a one-off container's runtime waits without any connection before it exits: long
 * enough for the CLI to connect after the health check, short enough that a killed CLI leaves
 * nothing running for long.
 */
export const EPHEMERAL_IDLE_EXIT_MS = 10_000;

/**
 * A started container drains on SIGTERM until whoever stops it says the drain is over (SIGUSR2,
 * see removeContainer), so the grace of `localctl stop --grace N` governs, not a fixed drain.
 */
const CONTAINER_DRAIN_MS = 24 * 60 * 60 * 1000;
/** What a stop keeps of its grace for cancelled runs to send their results before SIGKILL. */
const CANCEL_MARGIN_S = 2;

function envFor(token: string, digest: string, cpu: number | undefined, passed: Map<string, string>): string[] {
  const settings = { [TOKEN_ENV]: token, PROCCTL_IMAGE_DIGEST: digest, PROCCTL_RUNTIME_DRAIN_MS: String(CONTAINER_DRAIN_MS), ...handlerThreadsFor(cpu) };
  return [...Object.entries(settings), ...passed].map(([name, value]) => `${name}=${value}`);
}

function hostConfig(snapshot: RegistrySnapshot, mode: Mode): Dockerode.HostConfig {
  const limits = snapshot.entry.runtime;
  const memory = limits.memory_mb === undefined ? undefined : limits.memory_mb * 1024 * 1024;
  return {
    Init: true, // tini as PID 1 forwards SIGTERM, so stop is graceful
    ...(memory !== undefined && { Memory: memory, MemorySwap: memory }),
    ...(limits.cpu !== undefined && { NanoCpus: Math.round(limits.cpu * 1e9) }),
    ...(limits.pids !== undefined && { PidsLimit: limits.pids }),
    CapDrop: ['ALL'],
    SecurityOpt: ['no-new-privileges'],
    ReadonlyRootfs: true,
    Tmpfs: { '/tmp': 'rw,nosuid,nodev,size=64m' },
    ...(mode === 'mock'
      ? { NetworkMode: MOCK_NETWORK }
      : { PortBindings: { [`${RUNTIME_PORT}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: '' }] }, ExtraHosts: ['host.docker.internal:host-gateway'] }),
  };
}

function handleFrom(info: Dockerode.ContainerInspectInfo): ContainerHandle {
  const labels = info.Config.Labels ?? {};
  const token = (info.Config.Env ?? []).find((e) => e.startsWith(`${TOKEN_ENV}=`))?.slice(TOKEN_ENV.length + 1) ?? '';
  const mode = labels[LABEL.mode] as Mode;
  let endpoint = '';
  if (mode === 'mock') {
    const ip = info.NetworkSettings.Networks[MOCK_NETWORK]?.IPAddress;
    if (ip) endpoint = `http://${ip}:${RUNTIME_PORT}`;
  } else {
    const binding = info.NetworkSettings.Ports?.[`${RUNTIME_PORT}/tcp`]?.[0];
    if (binding) endpoint = `http://127.0.0.1:${binding.HostPort}`;
  }
  return { id: info.Id, name: info.Name.replace(/^\//, ''), ref: labels[LABEL.ref] ?? '', mode, digest: labels[LABEL.digest] ?? '', scope: (labels[LABEL.scope] ?? 'started') as Scope, endpoint, token };
}

async function inspect(idOrName: string): Promise<Dockerode.ContainerInspectInfo | undefined> {
  try {
    return await inspectContainer(idOrName);
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    if (isUnreachable(err)) throw engineUnavailable(err);
    throw new ProcctlError('ERR_DOCKER_UNAVAILABLE', `cannot inspect container ${idOrName}: ${describeEngineError(err)}`, undefined, { cause: err });
  }
}

/** The last lines a container printed, for error messages about why it stopped. */
export async function logTail(id: string, lines = 20): Promise<string> {
  const chunks: Buffer[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (chunks.push(chunk), done()) });
  try {
    await writeLogs(id, { follow: false, tail: lines }, sink, sink);
  } catch {
    return '';
  }
  return Buffer.concat(chunks).toString('utf8').trim();
}

export interface ExitFacts {
  running: boolean;
  exitCode: number | null;
  oomKilled: boolean;
}

export async function exitFacts(id: string): Promise<ExitFacts> {
  const info = await inspect(id);
  return info ? factsOf(info) : { running: false, exitCode: null, oomKilled: false };
}

function factsOf(info: Dockerode.ContainerInspectInfo): ExitFacts {
  return { running: info.State.Running, exitCode: info.State.Running ? null : info.State.ExitCode, oomKilled: info.State.OOMKilled };
}

/**
 * After a dropped connection: did the container stop? The engine notices an exit a moment after
 * the socket closes, so a container still shown running is watched for a short while before it
 * is taken to be alive (and the failure put down to the connection alone).
 */
export async function settledExitFacts(id: string, withinMs = 3000): Promise<ExitFacts> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const facts = await exitFacts(id);
    if (!facts.running || Date.now() > deadline) return facts;
    await delay(50);
  }
}

/** A typed error for a container that stopped: exit code, OOM flag, its last words. */
export async function containerExitError(handle: Pick<ContainerHandle, 'id' | 'name'>, facts: ExitFacts): Promise<ProcctlError> {
  const tail = await logTail(handle.id, 5);
  const why = facts.oomKilled ? 'was killed for running out of memory (OOM)' : `exited with code ${facts.exitCode}`;
  return new ProcctlError('ERR_CONTAINER_EXIT', `container ${handle.name} ${why}${tail ? `; last output: ${tail.split('\n').slice(-3).join(' | ')}` : ''}`, { exit_code: facts.exitCode, oom_killed: facts.oomKilled }, { retryable: !facts.oomKilled });
}

/** How often a starting container's /healthz is tried, and how often the engine is asked whether it died. */
export const HEALTH_POLL_MS = 5;
const EXIT_CHECK_MS = 100;

/**
 * Sends a signal to a container that runs; false when it is not running (exited, OOM-killed,
 * created): the engine answers 409 there, and a dead container has nothing left to stop.
 */
async function signalRunning(container: Dockerode.Container, signal: string): Promise<boolean> {
  try {
    await container.kill({ signal });
    return true;
  } catch (err) {
    if (statusOf(err) === 409) return false;
    throw err;
  }
}

/**
 * Polls /healthz until it answers. Start-to-healthy is measured, so the interval is short (a
 * refused connection to a container not yet listening costs well under a millisecond) and the
 * engine is asked whether the container died only every EXIT_CHECK_MS, not on every poll.
 */
async function waitHealthy(handle: ContainerHandle, timeoutMs: number, progress?: Progress): Promise<{ digest: string | null }> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  for (let nextExitCheck = Date.now() + EXIT_CHECK_MS; ; ) {
    progress?.(`starting ${handle.name}: waiting for /healthz (${((Date.now() - started) / 1000).toFixed(1)} s)`, {});
    try {
      const health = await runtimeHealth(handle.endpoint, 1000);
      if (health.ok) return health;
    } catch {
      // not listening yet
    }
    const timedOut = Date.now() > deadline;
    if (timedOut || Date.now() >= nextExitCheck) {
      const facts = await exitFacts(handle.id);
      if (!facts.running) throw await containerExitError(handle, facts);
      nextExitCheck = Date.now() + EXIT_CHECK_MS;
    }
    if (timedOut) throw new ProcctlError('ERR_CONTAINER_EXIT', `container ${handle.name} did not answer ${handle.endpoint}/healthz within ${timeoutMs} ms`, { exit_code: null, oom_killed: false });
    await delay(HEALTH_POLL_MS);
  }
}

export async function removeContainer(idOrName: string, graceS = 10): Promise<boolean> {
  const container = engine().getContainer(idOrName);
  try {
    if (await signalRunning(container, 'SIGTERM')) {
      // SIGTERM: the runtime stops taking work and lets running runs finish. Once the grace, less a
      // margin, is over, SIGUSR2 ends the drain (what still runs is cancelled, with its result sent),
      // and SIGKILL follows the margin later if the runtime has not exited by then.
      const exited = container.wait({ condition: 'not-running' }).then(() => true, () => true);
      const drainS = Math.max(0, graceS - CANCEL_MARGIN_S);
      let timer: NodeJS.Timeout | undefined;
      const over = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), drainS * 1000)));
      const done = await Promise.race([exited, over]);
      clearTimeout(timer);
      if (!done) await container.kill({ signal: 'SIGUSR2' }).catch(() => undefined);
      await container.stop({ t: Math.min(graceS, CANCEL_MARGIN_S) });
    }
  } catch (err) {
    const status = statusOf(err);
    if (status === 404) return false;
    if (status !== 304) throw new ProcctlError('ERR_DOCKER_UNAVAILABLE', `cannot stop ${idOrName}: ${describeEngineError(err)}`, undefined, { cause: err });
  }
  try {
    await container.remove({ force: true });
  } catch (err) {
    if (statusOf(err) !== 404 && statusOf(err) !== 409) throw new ProcctlError('ERR_DOCKER_UNAVAILABLE', `cannot remove ${idOrName}: ${describeEngineError(err)}`, undefined, { cause: err });
    // 409: the engine is removing it already (a one-off container's AutoRemove): return once it
    // is gone, so "removed afterwards" holds when we return. Bounded: removal takes moments.
    if (statusOf(err) === 409) await Promise.race([container.wait({ condition: 'removed' }).catch(() => undefined), delay(10_000, undefined, { ref: false })]);
  }
  return true;
}

/** How long a started container may sit created-but-not-started (another shell mid-start) before it counts as abandoned. */
const STARTING_GRACE_MS = 10_000;

/**
 * Starts (or finds already running) the container for a processor and mode, waits for /healthz,
 * and checks that it serves the pinned digest. Shells may race: a started container another shell
 * is creating or starting is waited for and shared, never removed from under it.
 */
export async function startContainer(options: StartOptions): Promise<ContainerHandle & { reused: boolean }> {
  const { snapshot, mode, scope } = options;
  const env = options.env ?? process.env;
  const progress = options.progress ?? (() => undefined);
  const healthTimeoutMs = options.healthTimeoutMs ?? 30_000;
  const { reference, digest } = pinnedReference(snapshot);
  if (mode === 'real') requireSecrets(snapshot, secretsPresentIn(snapshot.entry, env));
  const name = scope === 'started' ? startedContainerName(snapshot.slug, mode) : `procctl-${snapshot.slug}-run-${randomBytes(4).toString('hex')}`;
  // Start-up time is measured, so independent engine round trips go out together: the ping (whose
  // error, when no engine answers, is the one worth showing), the container, image and network
  // checks.
  const [engineUp, found, pulled, network] = await Promise.allSettled([
    pingEngine().catch((err: unknown) => {
      throw engineUnavailable(err);
    }),
    scope === 'started' ? inspect(name) : Promise.resolve(undefined),
    pullByDigest(reference, progress),
    mode === 'mock' ? ensureMockNetwork() : Promise.resolve(),
  ]);
  for (const settled of [engineUp, found, pulled, network]) if (settled.status === 'rejected') throw settled.reason;
  let existing = (found as PromiseFulfilledResult<Dockerode.ContainerInspectInfo | undefined>).value;
  if (existing?.State.Status === 'created') existing = await startedElsewhere(name, STARTING_GRACE_MS);
  const share = (info: Dockerode.ContainerInspectInfo) => shareStarted(info, { digest, snapshot, mode, progress, healthTimeoutMs });
  const stale = existing && staleness(existing, digest, snapshot, mode, env);
  if (existing && !stale) return share(existing);
  if (existing) {
    progress(`replacing ${name} (${stale})`);
    await removeContainer(existing.Id, 5);
  }
  // The host guard (an iptables process) only has to be in place before `start`: it runs while the
  // container is created.
  const guarded = mode === 'mock' ? guardHost(warnOf(progress)) : undefined;
  const token = randomBytes(32).toString('base64url');
  const passed = passedThrough(snapshot, mode, env);
  progress(`creating ${name} (${mode}${mode === 'mock' ? ', no network, no secrets' : ''})`);
  let id: string;
  try {
    id = await createContainer({
      name,
      Image: reference,
      Env: [...envFor(token, digest, snapshot.entry.runtime.cpu, passed), ...(scope === 'ephemeral' ? [`PROCCTL_RUNTIME_IDLE_EXIT_MS=${EPHEMERAL_IDLE_EXIT_MS}`] : [])],
      Labels: containerLabels(snapshot.ref, snapshot.slug, mode, digest, scope, [...passed.keys()]),
      ExposedPorts: { [`${RUNTIME_PORT}/tcp`]: {} },
      // A one-off container ends itself when its CLI's connection is gone (even after kill -9)
      // and the engine then removes it, secrets, published port and all.
      HostConfig: { ...hostConfig(snapshot, mode), ...(scope === 'ephemeral' && { AutoRemove: true }) },
    });
  } catch (err) {
    await guarded;
    // Another shell created the same started container a moment ago: share it once it is up.
    if (statusOf(err) === 409 && scope === 'started') {
      const other = await startedElsewhere(name, STARTING_GRACE_MS, true);
      if (other?.Config.Labels?.[LABEL.digest] === digest) return share(other);
    }
    throw new ProcctlError('ERR_CONTAINER_EXIT', `cannot create ${name}: ${describeEngineError(err)}`, { exit_code: null, oom_killed: false }, { cause: err });
  }
  try {
    await guarded;
    await startCreated(id);
  } catch (err) {
    await removeContainer(id, 0).catch(() => undefined);
    throw new ProcctlError('ERR_CONTAINER_EXIT', `cannot start ${name}: ${describeEngineError(err)}`, { exit_code: null, oom_killed: false }, { cause: err });
  }
  const handle = handleFrom((await inspect(id)) as Dockerode.ContainerInspectInfo);
  try {
    await waitPinnedHealthy(handle, digest, snapshot.ref, healthTimeoutMs, progress);
  } catch (err) {
    await removeContainer(id, 0).catch(() => undefined);
    throw err;
  }
  progress(`${name} healthy at ${handle.endpoint}`);
  writeStartedEntry(handle);
  return { ...handle, reused: false };
}

/**
 * Why a started container cannot serve this start as it is, or undefined if it can: it stopped, it
 * runs another image, or (real mode) it holds other values of the declared secrets and config than
 * this environment has — a changed key takes effect on the next start. Names only, never values.
 */
function staleness(info: Dockerode.ContainerInspectInfo, digest: string, snapshot: RegistrySnapshot, mode: Mode, env: NodeJS.ProcessEnv): string | undefined {
  if (!info.State.Running) return info.State.Status;
  if (info.Config.Labels?.[LABEL.digest] !== digest) return 'pinned digest changed';
  if (mode === 'mock') return undefined;
  // What was passed in is named by the label: a name the image itself sets is not mistaken for one.
  const passed = (info.Config.Labels?.[LABEL.passed] ?? '').split(',').filter(Boolean);
  const held = new Map((info.Config.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  const wanted = passedThrough(snapshot, mode, env);
  const changed = [...new Set([...passed, ...wanted.keys()])].filter((name) => !passed.includes(name) || held.get(name) !== wanted.get(name)).sort();
  return changed.length > 0 ? `${changed.join(', ')} changed in this environment` : undefined;
}

/**
 * A started container someone else made: returned once it is healthy and serving the pin, like one
 * this call started. A failure is reported, not repaired — the container is not this call's to remove.
 */
async function shareStarted(info: Dockerode.ContainerInspectInfo, on: { digest: string; snapshot: RegistrySnapshot; mode: Mode; progress: Progress; healthTimeoutMs: number }): Promise<ContainerHandle & { reused: boolean }> {
  const handle = handleFrom(info);
  on.progress(`${handle.name} is already running`);
  if (on.mode === 'mock') await guardHost(warnOf(on.progress));
  await waitPinnedHealthy(handle, on.digest, on.snapshot.ref, on.healthTimeoutMs);
  writeStartedEntry(handle);
  return { ...handle, reused: true };
}

/**
 * The container by this name once it has left the `created` state, i.e. once the shell that
 * created it has started it (or given up). `appearing`: the engine has refused our create over the
 * name, and the other container may not be visible yet (the engine reserves a name before the
 * container can be inspected), so absence is waited out too. Undefined if there is none to wait
 * for; one still created after `graceMs` is returned as it is: its creator is gone, and it may be
 * replaced.
 */
async function startedElsewhere(name: string, graceMs: number, appearing = false): Promise<Dockerode.ContainerInspectInfo | undefined> {
  const deadline = Date.now() + graceMs;
  for (;;) {
    const info = await inspect(name);
    const settled = info ? info.State.Status !== 'created' : !appearing;
    if (settled || Date.now() > deadline) return info;
    await delay(HEALTH_POLL_MS);
  }
}

async function waitPinnedHealthy(handle: ContainerHandle, digest: string, ref: string, timeoutMs: number, progress?: Progress): Promise<void> {
  const health = await waitHealthy(handle, timeoutMs, progress);
  if (health.digest !== digest) {
    throw new ProcctlError('ERR_DIGEST_MISMATCH', `container ${handle.name} reports image ${health.digest ?? 'none'}, but ${ref} pins ${digest}`, { expected: digest, actual: health.digest });
  }
}

const warnOf = (progress: Progress) => (message: string) => progress(`warning: ${message}`);

/** No started container to run in; `stopped` when there is one, but it died (its logs say why). */
export function notRunningError(ref: string, mode: Mode, stopped?: ExitFacts): ProcctlError {
  const which = `--ref ${ref}${mode === 'real' ? ' --mode real' : ''}`;
  if (!stopped) return new ProcctlError('ERR_CONTAINER_NOT_RUNNING', `no started ${mode} container for ${ref}; start one with: localctl start ${which}`, { ref, mode });
  const how = stopped.oomKilled ? 'was killed for running out of memory (OOM)' : `exited with code ${stopped.exitCode}`;
  return new ProcctlError('ERR_CONTAINER_NOT_RUNNING', `the started ${mode} container for ${ref} ${how}; see why with: localctl logs ${which}; start it again with: localctl start ${which}`, { ref, mode, exit_code: stopped.exitCode, oom_killed: stopped.oomKilled });
}

/** The started container for a processor and mode whether or not it still runs (a crashed one keeps its logs). */
export async function findStarted(snapshot: RegistrySnapshot, mode: Mode): Promise<(ContainerHandle & ExitFacts) | undefined> {
  // No ping first: an engine that does not answer fails the inspect with the same error, a round trip sooner.
  const info = await inspect(startedContainerName(snapshot.slug, mode));
  return info && { ...handleFrom(info), ...factsOf(info) };
}

export interface ContainerStatus {
  name: string;
  ref: string;
  mode: Mode;
  scope: Scope;
  state: string;
  status: string;
  digest: string;
  endpoint: string;
}

/** Every container procctl manages, from the engine's labels. Tokens are not included. */
export async function listManaged(): Promise<ContainerStatus[]> {
  const docker = await requireEngine();
  const found = await docker.listContainers({ all: true, filters: { label: [`${LABEL.managed}=1`] } });
  const rows: ContainerStatus[] = [];
  for (const c of found) {
    const info = await inspect(c.Id);
    if (!info) continue;
    const { name, ref, mode, scope, digest, endpoint } = handleFrom(info);
    rows.push({ name, ref, mode, scope, digest, endpoint, state: info.State.Status, status: c.Status });
  }
  return rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
