/**
 * Processor deployments on Modal. The JS SDK cannot deploy Modal Functions, so a deployment is a
 * named Sandbox in the App `procctl-<env>`, created from the pinned image by digest, running
 * procctl-runtime behind a fresh bearer token with the registry's limits, and reached through the
 * tunnel of its encrypted port (`https://…`, spoken to as `wss://…`). Everything procctl knows
 * about a deployment it reads back from Modal (the sandbox's name and tags), so a second shell or
 * machine sees the same deployments.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { ProcctlError } from '../contracts/errors.js';
import type { Mode } from '../contracts/inputs.js';
import { secretsPresentIn } from '../api/secrets.js';
import { pinnedReference } from '../docker/pinned.js';
import { RUNTIME_PORT, type Progress } from '../docker/images.js';
import { runtimeHealth } from '../protocol/health.js';
import type { RegistrySnapshot } from '../registry/registry.js';
import { handlerThreadsFor } from '../runtime/handler-threads.js';
import { appName, ownerParts, sandboxName, secretName, TAG } from './names.js';
import { call, isAlreadyExists, isNotFound, modalClient, modalError, type ModalClient, type Sandbox } from './sdk.js';

export interface DeploymentTarget {
  snapshot: RegistrySnapshot;
  /** The Modal environment (`--env`). */
  env: string;
  mode: Mode;
  /** Where GIT_BRANCH / GIT_USER and, in real mode, config values come from. */
  processEnv?: NodeJS.ProcessEnv;
}

export interface Deployment {
  name: string;
  app: string;
  env: string;
  ref: string;
  mode: Mode;
  digest: string;
  sandboxId: string;
  /** `https://…` of the runtime's tunnel. */
  url: string;
  token: string;
  created: string;
  expires: string;
}

export interface StartDeploymentOptions extends DeploymentTarget {
  /** `repository@sha256:…` overriding the registry's pin. */
  oci?: string;
  /** Name of a Modal Secret holding the registry's credentials. */
  registrySecret?: string;
  /** The sandbox's lifetime in seconds (Modal ends it then). */
  ttlS?: number;
  progress?: Progress;
  healthTimeoutMs?: number;
}

/** Modal's ceiling for a sandbox's lifetime. */
export const MAX_TTL_S = 24 * 3600;
export const DEFAULT_TTL_S = 3600;
const RUNTIME_COMMAND = ['node', '/app/dist/src/cli/procctl-runtime.js'];
const DIGEST_REFERENCE = /^[a-z0-9.:-]+(\/[a-z0-9._-]+)+@sha256:[0-9a-f]{64}$/;

/** What runs: the registry's pin, or `--oci`, which must name an image by digest. */
export function imageFor(snapshot: RegistrySnapshot, oci?: string): { reference: string; digest: string } {
  if (oci === undefined) return pinnedReference(snapshot);
  if (!DIGEST_REFERENCE.test(oci)) {
    throw new ProcctlError('ERR_USAGE', `--oci ${JSON.stringify(oci)} is not a digest reference; a tag can move, so give REPOSITORY@sha256:<64 hex digits>, e.g. ${snapshot.entry.image.repository}@sha256:…`, { oci });
  }
  return { reference: oci, digest: oci.slice(oci.indexOf('@') + 1) };
}

/** `--ttl`: seconds, or a number with s, m or h; whole seconds up to Modal's 24 h. */
export function parseTtl(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([smh]?)$/.exec(text.trim());
  const seconds = match ? Math.ceil(Number(match[1]) * ({ '': 1, s: 1, m: 60, h: 3600 } as const)[match[2] as '' | 's' | 'm' | 'h']) : NaN;
  if (!Number.isFinite(seconds) || seconds < 1 || seconds > MAX_TTL_S) {
    throw new ProcctlError('ERR_USAGE', `--ttl ${JSON.stringify(text)} is not a lifetime between 1s and 24h (e.g. 900, 30m, 2h)`);
  }
  return seconds;
}

/** One client per environment and process: the SDK keeps a gRPC channel and an auth token. */
const clients = new Map<string, Promise<ModalClient>>();

export function clientFor(env: string, processEnv: NodeJS.ProcessEnv = process.env): Promise<ModalClient> {
  let client = clients.get(env);
  if (!client) {
    client = modalClient(env, processEnv);
    clients.set(env, client);
    client.catch(() => clients.delete(env));
  }
  return client;
}

/** Closes every client this process opened, so a CLI exits at once. */
export async function closeClients(): Promise<void> {
  const all = [...clients.values()];
  clients.clear();
  for (const client of all) (await client.catch(() => undefined))?.close();
}

async function appOf(client: ModalClient, env: string, create: boolean) {
  return call(`looking up the App ${appName(env)} in environment ${env}`, () => client.apps.fromName(appName(env), { environment: env, createIfMissing: create }));
}

/** How a sandbox ended, from Modal's own record (exit code; OOM when Modal says so). */
export interface SandboxExit {
  running: boolean;
  exitCode: number | null;
  reason: 'running' | 'expired' | 'stopped' | 'exited';
  oomKilled: boolean;
  message: string;
}

const GENERIC_STATUS = { UNSPECIFIED: 0, SUCCESS: 1, FAILURE: 2, TERMINATED: 3, TIMEOUT: 4 } as const;

export async function sandboxExit(client: ModalClient, sandbox: Sandbox): Promise<SandboxExit> {
  // The raw wait (timeout 0) is what poll() makes; it also carries Modal's exception text (OOM).
  const resp = await call('asking Modal whether the sandbox runs', () => client.cpClient.sandboxWaitV2({ sandboxId: sandbox.sandboxId, timeout: 0 }));
  const result = resp.result;
  if (!result || result.status === GENERIC_STATUS.UNSPECIFIED) return { running: true, exitCode: null, reason: 'running', oomKilled: false, message: '' };
  const exception = result.exception ?? '';
  const oomKilled = /\bOOM\b|out of memory/i.test(exception);
  if (result.status === GENERIC_STATUS.TIMEOUT) return { running: false, exitCode: 124, reason: 'expired', oomKilled: false, message: exception };
  if (result.status === GENERIC_STATUS.TERMINATED && !oomKilled) return { running: false, exitCode: 137, reason: 'stopped', oomKilled: false, message: exception };
  return { running: false, exitCode: result.exitcode ?? null, reason: 'exited', oomKilled, message: exception };
}

/** How an ended sandbox ended, in words. */
export function describeExit(exit: SandboxExit): string {
  if (exit.reason === 'expired') return 'expired (it ran past its --ttl)';
  if (exit.reason === 'stopped') return 'was stopped';
  if (exit.oomKilled) return 'was killed for running out of memory (OOM)';
  return `exited with code ${exit.exitCode}${exit.message ? ` (${exit.message.split('\n')[0]})` : ''}`;
}

function startCommand(ref: string, env: string, mode: Mode): string {
  return `modalctl start --ref ${ref} --env ${env}${mode === 'real' ? ' --mode real' : ''}`;
}

/** ERR_FUNCTION_NOT_FOUND for a deployment that was never started, was stopped, or expired. */
export function notDeployedError(target: DeploymentTarget, name: string, exit?: SandboxExit): ProcctlError {
  const how = exit ? describeExit(exit) : 'was never started';
  const reason = exit ? exit.reason : 'never-started';
  return new ProcctlError('ERR_FUNCTION_NOT_FOUND', `the ${target.mode} deployment ${name} of ${target.snapshot.ref} in Modal environment ${target.env} ${how}; start it with: ${startCommand(target.snapshot.ref, target.env, target.mode)}`, { ref: target.snapshot.ref, env: target.env, mode: target.mode, name, reason, ...(exit && { exit_code: exit.exitCode }) });
}

async function tagsOf(sandbox: Sandbox): Promise<Record<string, string>> {
  return call('reading the sandbox tags', () => sandbox.getTags());
}

async function tunnelUrl(sandbox: Sandbox): Promise<string> {
  const tunnels = await call('asking Modal for the sandbox tunnel', () => sandbox.tunnels(30_000));
  const tunnel = tunnels[RUNTIME_PORT];
  if (!tunnel) throw new ProcctlError('ERR_RUNTIME_UNAVAILABLE', `the sandbox ${sandbox.sandboxId} has no tunnel for port ${RUNTIME_PORT}`);
  return tunnel.url;
}

async function deploymentOf(target: DeploymentTarget, sandbox: Sandbox, name: string, tags?: Record<string, string>): Promise<Deployment> {
  const t = tags ?? (await tagsOf(sandbox));
  return {
    name,
    app: appName(target.env),
    env: target.env,
    ref: t[TAG.ref] ?? target.snapshot.ref,
    mode: (t[TAG.mode] as Mode | undefined) ?? target.mode,
    digest: t[TAG.digest] ?? '',
    sandboxId: sandbox.sandboxId,
    url: await tunnelUrl(sandbox),
    token: t[TAG.token] ?? '',
    created: t[TAG.created] ?? '',
    expires: t[TAG.expires] ?? '',
  };
}

/** The running sandbox by name, or undefined. */
async function runningByName(client: ModalClient, target: DeploymentTarget, name: string): Promise<Sandbox | undefined> {
  try {
    // procctl's sandboxes are V2 ones: the V2 lookup alone (fromName would fall back to V1 on NOT_FOUND).
    return await client.sandboxes.experimentalFromName(appName(target.env), name, { environment: target.env });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw modalError(err, `looking up the sandbox ${name}`);
  }
}

/** The most recent sandbox by this name that has ended, or undefined. */
async function endedByName(client: ModalClient, target: DeploymentTarget, name: string): Promise<Sandbox | undefined> {
  try {
    return await client.sandboxes.fromName(appName(target.env), name, { environment: target.env, includeTerminated: true });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw modalError(err, `looking up the sandbox ${name}`);
  }
}

/**
 * The running deployment for a processor, mode and environment, checked to be alive; otherwise
 * ERR_FUNCTION_NOT_FOUND saying whether it was never started, was stopped or expired.
 */
export async function findDeployment(target: DeploymentTarget): Promise<Deployment & { sandbox: Sandbox }> {
  const processEnv = target.processEnv ?? process.env;
  const client = await clientFor(target.env, processEnv);
  const name = sandboxName(target.snapshot.slug, target.mode, processEnv);
  const sandbox = await runningByName(client, target, name);
  if (sandbox) {
    const exit = await sandboxExit(client, sandbox);
    if (exit.running) return { ...(await deploymentOf(target, sandbox, name)), sandbox };
    throw notDeployedError(target, name, exit);
  }
  const ended = await endedByName(client, target, name);
  throw notDeployedError(target, name, ended ? await sandboxExit(client, ended) : undefined);
}

const HEALTH_POLL_MS = 25;
const EXIT_CHECK_MS = 500;

/** /healthz through the tunnel until it answers, watching for the sandbox to end; then the digest check. */
async function waitPinnedHealthy(client: ModalClient, target: DeploymentTarget, deployment: Deployment, sandbox: Sandbox, digest: string, timeoutMs: number, progress: Progress): Promise<void> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  let nextExitCheck = Date.now() + EXIT_CHECK_MS;
  for (;;) {
    // The live line on a terminal; a callback that prints only milestones ignores it.
    progress(`starting ${deployment.name}: waiting for /healthz (${((Date.now() - started) / 1000).toFixed(1)} s)`, {});
    let health: { ok: boolean; digest: string | null } | undefined;
    try {
      health = await runtimeHealth(deployment.url, 2000);
    } catch {
      // not answering yet
    }
    if (health?.ok) {
      if (health.digest !== digest) throw new ProcctlError('ERR_DIGEST_MISMATCH', `sandbox ${deployment.name} reports image ${health.digest ?? 'none'}, but ${target.snapshot.ref} pins ${digest}`, { expected: digest, actual: health.digest });
      return;
    }
    const timedOut = Date.now() > deadline;
    if (timedOut || Date.now() >= nextExitCheck) {
      const exit = await sandboxExit(client, sandbox);
      if (!exit.running) throw new ProcctlError('ERR_CONTAINER_EXIT', `sandbox ${deployment.name} ${describeExit(exit)} before it answered ${deployment.url}/healthz${await lastWords(sandbox)}`, { exit_code: exit.exitCode, oom_killed: exit.oomKilled });
      nextExitCheck = Date.now() + EXIT_CHECK_MS;
    }
    if (timedOut) throw new ProcctlError('ERR_CONTAINER_EXIT', `sandbox ${deployment.name} did not answer ${deployment.url}/healthz within ${timeoutMs} ms`, { exit_code: null, oom_killed: false });
    await delay(HEALTH_POLL_MS);
  }
}

/** The sandbox's last lines, for an error saying why it ended. */
export async function lastWords(sandbox: Sandbox): Promise<string> {
  try {
    const lines: string[] = [];
    for await (const entry of sandbox.logs.tail({ entries: 5 })) lines.push(entry.message.trimEnd());
    const text = lines.join(' | ').trim();
    return text ? `; last output: ${text}` : '';
  } catch {
    return '';
  }
}

/** The Modal Secret a real deployment mounts; its absence names the command that creates it. */
async function syncedSecret(client: ModalClient, target: DeploymentTarget) {
  const name = secretName(target.snapshot.slug);
  try {
    return await client.secrets.fromName(name, { environment: target.env, requiredKeys: target.snapshot.entry.secrets.required });
  } catch (err) {
    if (isNotFound(err) || (err as { name?: string }).name === 'InvalidError') {
      throw new ProcctlError('ERR_MISSING_SECRET', `${target.snapshot.ref} in real mode mounts the Modal Secret ${name} in environment ${target.env}, which ${isNotFound(err) ? 'does not exist' : 'lacks a required key'}; create it with: modalctl sync-secrets --ref ${target.snapshot.ref} --env ${target.env}`, { secret: name, env: target.env });
    }
    throw modalError(err, `looking up the Modal Secret ${name}`);
  }
}

/** Declared config (not secrets) a real deployment gets from this shell, by name. */
function configFrom(snapshot: RegistrySnapshot, env: NodeJS.ProcessEnv): Record<string, string> {
  const config: Record<string, string> = {};
  for (const name of snapshot.entry.config ?? []) if (env[name] !== undefined) config[name] = env[name];
  return config;
}

/** The registry's limits in the SDK's terms. A GPU count asks for Modal's default GPU type (PROCCTL_MODAL_GPU overrides it). */
function limitsFor(snapshot: RegistrySnapshot, env: NodeJS.ProcessEnv): { cpu?: number; memoryMiB?: number; gpu?: string } {
  const limits = snapshot.entry.runtime;
  return {
    ...(limits.cpu !== undefined && { cpu: limits.cpu }),
    ...(limits.memory_mb !== undefined && { memoryMiB: limits.memory_mb }),
    ...(limits.gpu !== undefined && limits.gpu > 0 && { gpu: `${env['PROCCTL_MODAL_GPU'] || 'T4'}${limits.gpu > 1 ? `:${limits.gpu}` : ''}` }),
  };
}

/**
 * Starts the deployment (or finds it running and healthy), waits for /healthz through the tunnel
 * and checks that it serves the pinned digest. Modal keeps names unique among running sandboxes,
 * so shells that start at once end with one deployment: the loser of the create shares the winner's.
 */
export async function startDeployment(options: StartDeploymentOptions): Promise<Deployment & { reused: boolean }> {
  const { snapshot, env, mode } = options;
  const processEnv = options.processEnv ?? process.env;
  const target: DeploymentTarget = { snapshot, env, mode, processEnv };
  const progress = options.progress ?? (() => undefined);
  const healthTimeoutMs = options.healthTimeoutMs ?? 120_000;
  const { reference, digest } = imageFor(snapshot, options.oci);
  const ttlS = options.ttlS ?? DEFAULT_TTL_S;
  const name = sandboxName(snapshot.slug, mode, processEnv);
  const client = await clientFor(env, processEnv);
  const appReady = appOf(client, env, true);
  const image = appReady.then((app) => pulled(client, app, reference, env, options.registrySecret));
  image.catch(() => undefined); // awaited below, unless a running deployment is shared first
  const [app, existing] = await Promise.all([appReady, runningByName(client, target, name)]);

  if (existing) {
    const [tags, exit] = await Promise.all([tagsOf(existing), sandboxExit(client, existing)]);
    if (exit.running && tags[TAG.digest] === digest) return share(client, target, existing, name, tags, digest, healthTimeoutMs, progress);
    progress(`replacing ${name} (${exit.running ? 'another image' : describeExit(exit)})`);
    await call(`stopping ${name}`, () => existing.terminate());
  }

  const secrets = mode === 'real' ? [await syncedSecret(client, target)] : [];
  progress(`image ${reference}`);
  const built = await image;

  const token = randomBytes(32).toString('base64url');
  const created = new Date();
  const tags = {
    [TAG.managed]: '1',
    [TAG.ref]: snapshot.ref,
    [TAG.mode]: mode,
    [TAG.digest]: digest,
    [TAG.owner]: ownerParts(processEnv).join('/'),
    [TAG.created]: created.toISOString(),
    [TAG.expires]: new Date(created.getTime() + ttlS * 1000).toISOString(),
    [TAG.token]: token,
  };
  progress(`creating ${name} in ${appName(env)} (${env}, ${mode}${mode === 'mock' ? ': no outbound network, no secrets' : `: Modal Secret ${secretName(snapshot.slug)}`}, ttl ${ttlS}s)`);
  let sandbox: Sandbox;
  try {
    sandbox = await client.sandboxes.create(app, built, {
      name,
      command: RUNTIME_COMMAND,
      env: { PROCCTL_RUNTIME_TOKEN: token, PROCCTL_IMAGE_DIGEST: digest, PROCCTL_RUNTIME_HOST: '0.0.0.0', PROCCTL_RUNTIME_PORT: String(RUNTIME_PORT), ...handlerThreadsFor(snapshot.entry.runtime.cpu), ...(mode === 'real' ? configFrom(snapshot, processEnv) : {}) },
      secrets,
      encryptedPorts: [RUNTIME_PORT],
      timeoutMs: ttlS * 1000,
      tags,
      ...limitsFor(snapshot, processEnv),
      // Mock sandboxes are hermetic by construction: an empty outbound allowlist lets nothing out,
      // while the tunnel, which is inbound, keeps working. (blockNetwork disables all networking.)
      ...(mode === 'mock' && { outboundCidrAllowlist: [] }),
    });
  } catch (err) {
    if (isAlreadyExists(err)) {
      // Another shell created it a moment ago: share it once it is healthy.
      const other = await runningByName(client, target, name);
      if (other) return share(client, target, other, name, await tagsOf(other), digest, healthTimeoutMs, progress);
    }
    throw modalError(err, `creating the sandbox ${name}`);
  }
  const deployment = { ...(await deploymentOf(target, sandbox, name, tags)) };
  try {
    await waitPinnedHealthy(client, target, deployment, sandbox, digest, healthTimeoutMs, progress);
  } catch (err) {
    await sandbox.terminate().catch(() => undefined);
    throw err;
  }
  progress(`${name} healthy at ${deployment.url}`);
  return { ...deployment, reused: false };
}

/** The image by digest, prepared (pulled) by Modal; a failed pull is ERR_IMAGE_PULL. Started as soon as the App is known. */
async function pulled(client: ModalClient, app: Awaited<ReturnType<typeof appOf>>, reference: string, env: string, registrySecretName?: string) {
  const registrySecret = registrySecretName === undefined ? undefined : await call(`looking up the registry secret ${registrySecretName}`, () => client.secrets.fromName(registrySecretName, { environment: env }));
  const image = client.images.fromRegistry(reference, registrySecret);
  try {
    await image.build(app);
  } catch (err) {
    const failure = modalError(err, `preparing the image ${reference}`);
    if (failure.code !== 'ERR_INTERNAL') throw failure;
    throw new ProcctlError('ERR_IMAGE_PULL', `Modal cannot pull ${reference}: ${(err as Error).message.split('\n').slice(-1)[0]}; push the image to a registry Modal can reach${registrySecretName ? '' : ' (a private one needs --registry-secret NAME)'}`, { reference }, { cause: err });
  }
  return image;
}

async function share(client: ModalClient, target: DeploymentTarget, sandbox: Sandbox, name: string, tags: Record<string, string>, digest: string, healthTimeoutMs: number, progress: Progress): Promise<Deployment & { reused: boolean }> {
  progress(`${name} is already running`);
  const deployment = await deploymentOf(target, sandbox, name, tags);
  if (deployment.digest !== digest) throw new ProcctlError('ERR_DIGEST_MISMATCH', `sandbox ${name} runs ${deployment.digest}, but this start pins ${digest}`, { expected: digest, actual: deployment.digest });
  await waitPinnedHealthy(client, target, deployment, sandbox, digest, healthTimeoutMs, progress);
  return { ...deployment, reused: true };
}

/** Ends the deployments of a processor in an environment (both modes unless one is given). Returns the names stopped. */
export async function stopDeployments(target: Omit<DeploymentTarget, 'mode'> & { mode?: Mode }): Promise<string[]> {
  const processEnv = target.processEnv ?? process.env;
  const client = await clientFor(target.env, processEnv);
  const stopped: string[] = [];
  for (const mode of target.mode ? [target.mode] : (['mock', 'real'] as Mode[])) {
    const name = sandboxName(target.snapshot.slug, mode, processEnv);
    const sandbox = await runningByName(client, { ...target, mode }, name);
    if (!sandbox) continue;
    await call(`stopping ${name}`, () => sandbox.terminate());
    stopped.push(name);
  }
  return stopped;
}

/** Ends one sandbox by id (`stop --all`). */
export async function stopSandbox(env: string, sandboxId: string, processEnv: NodeJS.ProcessEnv = process.env): Promise<void> {
  const client = await clientFor(env, processEnv);
  const sandbox = await call(`finding the sandbox ${sandboxId}`, () => client.sandboxes.fromId(sandboxId));
  await call(`stopping the sandbox ${sandboxId}`, () => sandbox.terminate());
}

export interface DeploymentStatus {
  name: string;
  ref: string;
  env: string;
  mode: string;
  state: string;
  digest: string;
  sandbox_id: string;
  created: string;
  expires: string;
  owner: string;
}

/**
 * Every procctl deployment in an environment, from Modal: the running ones, and those that ended
 * (expired, stopped, exited) while no newer one of the same name runs. Tokens are not included.
 */
export async function listDeployments(env: string, processEnv: NodeJS.ProcessEnv = process.env): Promise<DeploymentStatus[]> {
  const client = await clientFor(env, processEnv);
  let app;
  try {
    app = await client.apps.fromName(appName(env), { environment: env });
  } catch (err) {
    if (isNotFound(err)) return [];
    throw modalError(err, `looking up the App ${appName(env)}`);
  }
  // The SDK's list yields running sandboxes only; ended ones come from the same RPC with includeFinished.
  const resp = await call('listing sandboxes', () => client.cpClient.sandboxListV2({ appId: app.appId, includeFinished: true, tags: [{ tagName: TAG.managed, tagValue: '1' }] }));
  const rows = new Map<string, DeploymentStatus>();
  const infos = [...resp.sandboxes].sort((a, b) => b.createdAt - a.createdAt);
  for (const info of infos) {
    const tags = Object.fromEntries(info.tags.map((t) => [t.tagName, t.tagValue]));
    const name = info.name || info.id;
    if (rows.has(name)) continue; // an older sandbox of the same name
    const sandbox = await client.sandboxes.fromId(info.id);
    const exit = await sandboxExit(client, sandbox);
    const state = exit.running ? 'running' : exit.reason === 'exited' ? (exit.oomKilled ? 'exited (OOM)' : `exited (${exit.exitCode})`) : exit.reason;
    rows.set(name, { name, ref: tags[TAG.ref] ?? '', env, mode: tags[TAG.mode] ?? '', state, digest: tags[TAG.digest] ?? '', sandbox_id: info.id, created: tags[TAG.created] ?? '', expires: tags[TAG.expires] ?? '', owner: tags[TAG.owner] ?? '' });
  }
  return [...rows.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The deployment's sandbox, running or ended, for its logs. */
export async function sandboxForLogs(target: DeploymentTarget): Promise<{ sandbox: Sandbox; name: string; running: boolean }> {
  const processEnv = target.processEnv ?? process.env;
  const client = await clientFor(target.env, processEnv);
  const name = sandboxName(target.snapshot.slug, target.mode, processEnv);
  const running = await runningByName(client, target, name);
  if (running) return { sandbox: running, name, running: true };
  const ended = await endedByName(client, target, name);
  if (!ended) throw notDeployedError(target, name);
  return { sandbox: ended, name, running: false };
}

/** Writes the sandbox's logs; with follow, polls for new lines until the sandbox ends. */
export async function writeSandboxLogs(target: DeploymentTarget, options: { follow: boolean; tail?: number }, out: NodeJS.WritableStream, err: NodeJS.WritableStream, progress: Progress = () => undefined): Promise<void> {
  const processEnv = target.processEnv ?? process.env;
  const client = await clientFor(target.env, processEnv);
  const { sandbox, name, running } = await sandboxForLogs(target);
  if (!running) progress(`${name} is not running; its logs up to when it ended:`);
  let last = 0;
  const write = (entry: { message: string; source: string; timestamp: Date }) => {
    (entry.source === 'stderr' ? err : out).write(entry.message);
    last = Math.max(last, entry.timestamp.getTime());
  };
  await call(`reading the logs of ${name}`, async () => {
    for await (const entry of sandbox.logs.tail({ entries: options.tail ?? 1000 })) write(entry);
  });
  if (!options.follow || !running) return;
  for (;;) {
    await delay(1000);
    const alive = (await sandboxExit(client, sandbox)).running;
    await call(`reading the logs of ${name}`, async () => {
      for await (const entry of sandbox.logs.fetch({ since: new Date(last + 1) })) if (entry.timestamp.getTime() > last) write(entry);
    });
    if (!alive) return;
  }
}

/** Creates or overwrites the processor's Modal Secret from this shell's values of its declared secrets. Returns the key names. */
export async function syncSecrets(target: Omit<DeploymentTarget, 'mode'>): Promise<{ secret: string; keys: string[] }> {
  const processEnv = target.processEnv ?? process.env;
  const { entry, ref } = target.snapshot;
  const missing = entry.secrets.required.filter((n) => !processEnv[n]);
  if (missing.length > 0) throw new ProcctlError('ERR_MISSING_SECRET', `${ref} needs secret(s) ${missing.join(', ')} in this shell to sync them to Modal (values are never logged)`, { missing });
  const keys = secretsPresentIn(entry, processEnv);
  const envDict = Object.fromEntries(keys.map((k) => [k, processEnv[k] as string]));
  const client = await clientFor(target.env, processEnv);
  const secret = secretName(target.snapshot.slug);
  // The SDK has no public create-or-update of a named Secret; this is the call Python's
  // Secret.create_deployed(overwrite=True) makes (object creation type CREATE_OVERWRITE_IF_EXISTS).
  await call(`writing the Modal Secret ${secret}`, () => client.cpClient.secretGetOrCreate({ deploymentName: secret, environmentName: target.env, objectCreationType: 3, envDict }));
  return { secret, keys };
}
