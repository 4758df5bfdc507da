/**
 * Processor pods: the pinned image by digest running procctl-runtime, with the registry's limits
 * as requests and limits, the runtime token in a Secret, and — in real mode only — the declared
 * secrets from a Kubernetes Secret synced by name (`procctl kube sync-secrets`), so no value is
 * ever in a pod spec. Everything procctl knows about a pod it reads back from the API server
 * (labels and annotations), so another shell sees the same pods.
 *
 * A bare Pod with restartPolicy Never, not a Deployment: a runtime killed mid-run (OOM, kill -9)
 * must stay dead with its exit code and OOM flag for the next call to report, not be replaced
 * silently under a caller that holds its address.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type * as K8s from '@kubernetes/client-node';
import { ProcctlError } from '../contracts/errors.js';
import type { Mode } from '../contracts/inputs.js';
import type { RegistrySnapshot } from '../registry/registry.js';
import { requireSecrets } from '../api/secrets.js';
import { pinnedReference } from '../docker/pinned.js';
import { RUNTIME_PORT, type Progress } from '../docker/images.js';
import { startedContainerName } from '../docker/labels.js';
import { runtimeHealth } from '../protocol/health.js';
import { handlerThreadsFor } from '../runtime/handler-threads.js';
import { apiStatus, apiUnavailable, describeApiError, type Cluster } from './client.js';
import { forwardPort, type Forwarder } from './port-forward.js';
import { imagePullProblem, isReady, termination, type Termination } from './pods.js';

const CONTAINER = 'runtime';
const TOKEN_KEY = 'PROCCTL_RUNTIME_TOKEN';

export const KUBE_LABEL = {
  managed: 'app.kubernetes.io/managed-by',
  slug: 'procctl.slug',
  mode: 'procctl.mode',
} as const;
export const KUBE_ANNOTATION = {
  ref: 'procctl/ref',
  digest: 'procctl/digest',
  /** names (never values) of the secrets and config passed in, comma-separated. */
  passed: 'procctl/passed',
} as const;

/** Pods, token Secrets and secret Secrets share the Docker container's name scheme. */
export const processorPodName = startedContainerName;
export const tokenSecretName = (slug: string, mode: Mode) => `${startedContainerName(slug, mode)}-token`;
/** The Secret `kube sync-secrets` writes and real-mode pods read, one per processor. */
export const syncedSecretName = (slug: string) => `procctl-${slug}-secrets`;
const MOCK_POLICY = 'procctl-mock-deny-egress';

export interface PodHandle {
  name: string;
  slug: string;
  ref: string;
  mode: Mode;
  digest: string;
  node: string;
  phase: string;
  /** names of the secrets and config the pod was given (real mode), never values. */
  passed: string[];
}

export interface PodStartOptions {
  snapshot: RegistrySnapshot;
  mode: Mode;
  /** non-secret config values (registry `config` names) from the caller's environment. */
  env?: NodeJS.ProcessEnv;
  /** milestones, and (with a second argument) the live step while the pod starts. */
  progress?: Progress;
  /** how long to wait for the pod and its /healthz, in milliseconds; default 120 000. */
  readyTimeoutMs?: number;
}

function handleOf(pod: K8s.V1Pod): PodHandle {
  const a = pod.metadata?.annotations ?? {};
  return {
    name: pod.metadata?.name ?? '',
    slug: pod.metadata?.labels?.[KUBE_LABEL.slug] ?? '',
    ref: a[KUBE_ANNOTATION.ref] ?? '',
    mode: (pod.metadata?.labels?.[KUBE_LABEL.mode] ?? 'mock') as Mode,
    digest: a[KUBE_ANNOTATION.digest] ?? '',
    node: pod.spec?.nodeName ?? '',
    phase: pod.status?.phase ?? 'Unknown',
    passed: (a[KUBE_ANNOTATION.passed] ?? '').split(',').filter(Boolean),
  };
}

async function readPod(cluster: Cluster, name: string): Promise<K8s.V1Pod | undefined> {
  try {
    return await cluster.core.readNamespacedPod({ namespace: cluster.namespace, name });
  } catch (err) {
    if (apiStatus(err) === 404) return undefined;
    throw apiUnavailable(cluster, `read pod ${cluster.namespace}/${name}`, err);
  }
}

async function readSecretKeys(cluster: Cluster, name: string): Promise<string[] | undefined> {
  try {
    const secret = await cluster.core.readNamespacedSecret({ namespace: cluster.namespace, name });
    return Object.keys(secret.data ?? {}).sort();
  } catch (err) {
    if (apiStatus(err) === 404) return undefined;
    throw apiUnavailable(cluster, `read Secret ${cluster.namespace}/${name}`, err);
  }
}

/** The runtime token of a started pod, from its Secret (never from the spec: it is not there). */
export async function podToken(cluster: Cluster, slug: string, mode: Mode): Promise<string> {
  try {
    const secret = await cluster.core.readNamespacedSecret({ namespace: cluster.namespace, name: tokenSecretName(slug, mode) });
    return Buffer.from(secret.data?.[TOKEN_KEY] ?? '', 'base64').toString('utf8');
  } catch (err) {
    throw apiUnavailable(cluster, `read the runtime token Secret of ${processorPodName(slug, mode)}`, err);
  }
}

/** The ERR_CONTAINER_NOT_RUNNING for a processor with no started pod, naming the start command. */
export function podNotStarted(ref: string, mode: Mode, cluster: Pick<Cluster, 'namespace'>): ProcctlError {
  const which = `--ref ${ref}${mode === 'real' ? ' --mode real' : ''}`;
  return new ProcctlError('ERR_CONTAINER_NOT_RUNNING', `no started ${mode} pod for ${ref} in namespace ${cluster.namespace}; start one with: procctl kube start ${which}`, { ref, mode, namespace: cluster.namespace });
}

/** The typed error for a pod whose runtime container ended: its exit code and OOM flag. */
export function podExitError(name: string, ended: Termination): ProcctlError {
  const why = ended.oomKilled ? 'was OOMKilled (it ran out of memory)' : `exited with code ${ended.exitCode} (${ended.reason || 'no reason given'})`;
  return new ProcctlError('ERR_CONTAINER_EXIT', `the runtime in pod ${name} ${why}; see procctl kube logs; start it again with procctl kube start`, { exit_code: ended.exitCode, oom_killed: ended.oomKilled }, { retryable: !ended.oomKilled });
}

export function imagePullError(name: string, image: string, problem: { reason: string; message: string }): ProcctlError {
  return new ProcctlError('ERR_IMAGE_PULL', `pod ${name} cannot pull ${image}: ${problem.reason}: ${problem.message}`, { reason: problem.reason, image });
}

/** Why a pod cannot serve: its image will not pull, or its runtime ended. Undefined while it may. */
export function podFailure(pod: K8s.V1Pod): ProcctlError | undefined {
  const name = pod.metadata?.name ?? '';
  const pull = imagePullProblem(pod, CONTAINER);
  if (pull) return imagePullError(name, pod.spec?.containers[0]?.image ?? '', pull);
  const ended = termination(pod, CONTAINER);
  if (ended) return podExitError(name, ended);
  if (pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded') {
    return new ProcctlError('ERR_CONTAINER_EXIT', `pod ${name} is ${pod.status.phase}${pod.status.reason ? ` (${pod.status.reason}: ${pod.status.message ?? ''})` : ''}`, { exit_code: null, oom_killed: false });
  }
  return undefined;
}

function podManifest(snapshot: RegistrySnapshot, mode: Mode, reference: string, digest: string, passedConfig: Map<string, string>, syncedKeys: string[]): K8s.V1Pod {
  const limits = snapshot.entry.runtime;
  const resources: Record<string, string> = {
    ...(limits.cpu !== undefined && { cpu: String(limits.cpu) }),
    ...(limits.memory_mb !== undefined && { memory: `${limits.memory_mb}Mi` }),
  };
  const name = processorPodName(snapshot.slug, mode);
  const env: K8s.V1EnvVar[] = [
    { name: TOKEN_KEY, valueFrom: { secretKeyRef: { name: tokenSecretName(snapshot.slug, mode), key: TOKEN_KEY } } },
    { name: 'PROCCTL_IMAGE_DIGEST', value: digest },
    ...Object.entries(handlerThreadsFor(limits.cpu)).map(([name, value]) => ({ name, value })),
  ];
  const passed: string[] = [];
  if (mode === 'real') {
    // By reference only: the values stay in the synced Secret.
    for (const key of syncedKeys) {
      env.push({ name: key, valueFrom: { secretKeyRef: { name: syncedSecretName(snapshot.slug), key } } });
      passed.push(key);
    }
    for (const [key, value] of passedConfig) {
      env.push({ name: key, value });
      passed.push(key);
    }
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      labels: { [KUBE_LABEL.managed]: 'procctl', [KUBE_LABEL.slug]: snapshot.slug, [KUBE_LABEL.mode]: mode },
      annotations: { [KUBE_ANNOTATION.ref]: snapshot.ref, [KUBE_ANNOTATION.digest]: digest, [KUBE_ANNOTATION.passed]: passed.sort().join(',') },
    },
    spec: {
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 10,
      containers: [
        {
          name: CONTAINER,
          image: reference,
          imagePullPolicy: 'IfNotPresent',
          env,
          ports: [{ containerPort: RUNTIME_PORT, name: 'runtime' }],
          ...(Object.keys(resources).length > 0 && { resources: { requests: resources, limits: resources } }),
          readinessProbe: { tcpSocket: { port: RUNTIME_PORT }, periodSeconds: 1 },
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
          volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
        },
      ],
      volumes: [{ name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } }],
    },
  };
}

/**
 * Egress cut for mock pods where the cluster enforces NetworkPolicy (Calico, Cilium, …): no
 * egress rule means no egress. Clusters without an enforcing network plugin (the local test
 * cluster has none) accept the object and ignore it; mock pods also never get secrets.
 */
async function ensureMockPolicy(cluster: Cluster): Promise<void> {
  const net = cluster.config.makeApiClient(cluster.lib.NetworkingV1Api);
  try {
    await net.createNamespacedNetworkPolicy({
      namespace: cluster.namespace,
      body: { metadata: { name: MOCK_POLICY, labels: { [KUBE_LABEL.managed]: 'procctl' } }, spec: { podSelector: { matchLabels: { [KUBE_LABEL.managed]: 'procctl', [KUBE_LABEL.mode]: 'mock' } }, policyTypes: ['Egress'], egress: [] } },
    });
  } catch (err) {
    if (apiStatus(err) !== 409) throw apiUnavailable(cluster, `create NetworkPolicy ${MOCK_POLICY}`, err);
  }
}

/** Deletes a processor's pod and token Secret; true if there was a pod. Waits until the pod is gone. */
export async function deleteProcessorPod(cluster: Cluster, slug: string, mode: Mode, graceSeconds = 10): Promise<boolean> {
  const name = processorPodName(slug, mode);
  let existed = true;
  try {
    await cluster.core.deleteNamespacedPod({ namespace: cluster.namespace, name, gracePeriodSeconds: graceSeconds });
  } catch (err) {
    if (apiStatus(err) !== 404) throw apiUnavailable(cluster, `delete pod ${name}`, err);
    existed = false;
  }
  await cluster.core.deleteNamespacedSecret({ namespace: cluster.namespace, name: tokenSecretName(slug, mode) }).catch(() => undefined);
  const deadline = Date.now() + (graceSeconds + 30) * 1000;
  while (existed && Date.now() < deadline && (await readPod(cluster, name))) await delay(200);
  return existed;
}

export interface StartedPod extends PodHandle {
  reused: boolean;
}

/**
 * Starts (or finds running) the pod for a processor and mode, waits until its runtime answers
 * /healthz through a port-forward, and checks it serves the pinned digest.
 */
export async function startProcessorPod(cluster: Cluster, options: PodStartOptions): Promise<StartedPod> {
  const { snapshot, mode } = options;
  const progress = options.progress ?? (() => undefined);
  const timeoutMs = options.readyTimeoutMs ?? 120_000;
  const { reference, digest } = pinnedReference(snapshot);
  const name = processorPodName(snapshot.slug, mode);
  let syncedKeys: string[] = [];
  const passedConfig = new Map<string, string>();
  if (mode === 'real') {
    const declared = [...snapshot.entry.secrets.required, ...(snapshot.entry.secrets.optional ?? [])];
    const keys = (await readSecretKeys(cluster, syncedSecretName(snapshot.slug))) ?? [];
    syncedKeys = keys.filter((k) => declared.includes(k));
    try {
      requireSecrets(snapshot, syncedKeys);
    } catch (err) {
      const e = err as ProcctlError;
      throw new ProcctlError('ERR_MISSING_SECRET', `${e.message.replace(/; set them in the environment.*$/, '')}; sync them into Secret ${cluster.namespace}/${syncedSecretName(snapshot.slug)} with: procctl kube sync-secrets --ref ${snapshot.ref} (values are never logged)`, e.details);
    }
    const env = options.env ?? process.env;
    for (const key of snapshot.entry.config ?? []) if (env[key] !== undefined) passedConfig.set(key, env[key]);
  }

  const existing = await readPod(cluster, name);
  if (existing) {
    const same = existing.metadata?.annotations?.[KUBE_ANNOTATION.digest] === digest && !podFailure(existing) && !existing.metadata?.deletionTimestamp;
    if (same) {
      progress(`${name} is already running`);
      await waitServing(cluster, existing, digest, snapshot.ref, timeoutMs, progress);
      return { ...handleOf((await readPod(cluster, name)) ?? existing), reused: true };
    }
    progress(`replacing ${name} (${podFailure(existing)?.message ?? 'pinned digest changed'})`);
    await deleteProcessorPod(cluster, snapshot.slug, mode, 2);
  }
  if (mode === 'mock') await ensureMockPolicy(cluster);
  const token = randomBytes(32).toString('base64url');
  try {
    await cluster.core.deleteNamespacedSecret({ namespace: cluster.namespace, name: tokenSecretName(snapshot.slug, mode) }).catch(() => undefined);
    await cluster.core.createNamespacedSecret({
      namespace: cluster.namespace,
      body: { metadata: { name: tokenSecretName(snapshot.slug, mode), labels: { [KUBE_LABEL.managed]: 'procctl', [KUBE_LABEL.slug]: snapshot.slug, [KUBE_LABEL.mode]: mode } }, type: 'Opaque', stringData: { [TOKEN_KEY]: token } },
    });
  } catch (err) {
    throw apiUnavailable(cluster, `create the runtime token Secret for ${name}`, err);
  }
  progress(`creating pod ${cluster.namespace}/${name} (${mode}${mode === 'mock' ? ', no secrets, egress denied by NetworkPolicy where enforced' : ''})`);
  let created: K8s.V1Pod;
  try {
    created = await cluster.core.createNamespacedPod({ namespace: cluster.namespace, body: podManifest(snapshot, mode, reference, digest, passedConfig, syncedKeys) });
  } catch (err) {
    if (apiStatus(err) === 409) throw new ProcctlError('ERR_CONTAINER_EXIT', `pod ${name} was created by another shell at the same time; run procctl kube start again to share it`, { exit_code: null, oom_killed: false });
    throw apiUnavailable(cluster, `create pod ${name}`, err);
  }
  try {
    await waitServing(cluster, created, digest, snapshot.ref, timeoutMs, progress);
  } catch (err) {
    await deleteProcessorPod(cluster, snapshot.slug, mode, 0).catch(() => undefined);
    throw err;
  }
  const pod = (await readPod(cluster, name)) ?? created;
  progress(`${name} healthy on node ${pod.spec?.nodeName ?? '?'}`);
  return { ...handleOf(pod), reused: false };
}

/** Waits for the pod to be Ready, then checks /healthz through a port-forward for the pinned digest. */
async function waitServing(cluster: Cluster, pod: K8s.V1Pod, digest: string, ref: string, timeoutMs: number, progress: Progress): Promise<void> {
  const name = pod.metadata?.name ?? '';
  const started = Date.now();
  const deadline = started + timeoutMs;
  for (let current: K8s.V1Pod | undefined = pod; ; current = await readPod(cluster, name)) {
    if (!current) throw new ProcctlError('ERR_CONTAINER_EXIT', `pod ${name} disappeared while starting`, { exit_code: null, oom_killed: false });
    // The live line on a terminal: the phase and why it waits (ContainerCreating, pulling…).
    const waiting = current.status?.containerStatuses?.[0]?.state?.waiting?.reason;
    progress(`starting pod ${name}: ${current.status?.phase ?? 'Pending'}${waiting ? ` (${waiting})` : ''} ${((Date.now() - started) / 1000).toFixed(1)} s`, {});
    const failure = podFailure(current);
    if (failure) throw failure;
    if (isReady(current, CONTAINER)) break;
    if (Date.now() > deadline) {
      // Say why, when the cluster said: e.g. Unschedulable, "0/1 nodes are available: 1 Insufficient cpu."
      const stuck = current.status?.conditions?.find((c) => c.status === 'False' && c.message);
      const why = stuck ? `; ${stuck.type}: ${stuck.reason ?? ''} ${stuck.message ?? ''}`.trimEnd() : '';
      throw new ProcctlError('ERR_CONTAINER_EXIT', `pod ${name} was not Ready within ${timeoutMs} ms (phase ${current.status?.phase ?? 'unknown'}${why})`, { exit_code: null, oom_killed: false });
    }
    await delay(100);
  }
  const forwarder = await forwardPort(cluster, name, RUNTIME_PORT);
  try {
    const health = await healthThrough(forwarder, deadline);
    if (health.digest !== digest) throw new ProcctlError('ERR_DIGEST_MISMATCH', `pod ${name} reports image ${health.digest ?? 'none'}, but ${ref} pins ${digest}`, { expected: digest, actual: health.digest });
  } finally {
    await forwarder.close();
  }
}

async function healthThrough(forwarder: Forwarder, deadline: number): Promise<{ digest: string | null }> {
  for (;;) {
    try {
      const health = await runtimeHealth(forwarder.url, 5000);
      if (health.ok) return health;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await delay(50);
  }
}

/** The started pod for a processor and mode, and why it cannot serve if it cannot. */
export async function findProcessorPod(cluster: Cluster, slug: string, mode: Mode): Promise<{ pod: K8s.V1Pod; handle: PodHandle; failure: ProcctlError | undefined } | undefined> {
  const pod = await readPod(cluster, processorPodName(slug, mode));
  return pod && { pod, handle: handleOf(pod), failure: podFailure(pod) };
}

export interface PodStatusRow extends PodHandle {
  ready: boolean;
  problem: string;
}

/** Every processor pod procctl manages in the namespace. Tokens and secrets are not included. */
export async function listProcessorPods(cluster: Cluster): Promise<PodStatusRow[]> {
  let pods: K8s.V1Pod[];
  try {
    pods = (await cluster.core.listNamespacedPod({ namespace: cluster.namespace, labelSelector: `${KUBE_LABEL.managed}=procctl,${KUBE_LABEL.slug}` })).items;
  } catch (err) {
    throw apiUnavailable(cluster, `list pods in ${cluster.namespace}`, err);
  }
  return pods
    .map((pod) => ({ ...handleOf(pod), ready: isReady(pod, CONTAINER), problem: podFailure(pod)?.message ?? '' }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Writes the declared secrets present in `env` into the processor's Secret, by name. Returns the
 * names written (never the values). Keys no longer present are removed.
 */
export async function syncSecrets(cluster: Cluster, snapshot: RegistrySnapshot, env: NodeJS.ProcessEnv): Promise<string[]> {
  const declared = [...snapshot.entry.secrets.required, ...(snapshot.entry.secrets.optional ?? [])];
  const present = declared.filter((n) => typeof env[n] === 'string' && env[n] !== '').sort();
  const name = syncedSecretName(snapshot.slug);
  const body: K8s.V1Secret = { metadata: { name, labels: { [KUBE_LABEL.managed]: 'procctl', [KUBE_LABEL.slug]: snapshot.slug } }, type: 'Opaque', stringData: Object.fromEntries(present.map((n) => [n, env[n] as string])) };
  try {
    await cluster.core.replaceNamespacedSecret({ namespace: cluster.namespace, name, body });
  } catch (err) {
    if (apiStatus(err) !== 404) throw apiUnavailable(cluster, `write Secret ${name}`, err);
    try {
      await cluster.core.createNamespacedSecret({ namespace: cluster.namespace, body });
    } catch (createErr) {
      throw new ProcctlError('ERR_KUBERNETES_UNAVAILABLE', `cannot create Secret ${cluster.namespace}/${name}: ${describeApiError(createErr)}`, { server: cluster.server });
    }
  }
  return present;
}

/** The runtime container's log (the previous one too, after it ended). */
export async function podLog(cluster: Cluster, name: string, tailLines?: number): Promise<string> {
  try {
    return String(await cluster.core.readNamespacedPodLog({ namespace: cluster.namespace, name, container: CONTAINER, ...(tailLines !== undefined && { tailLines }) }));
  } catch (err) {
    throw apiUnavailable(cluster, `read the log of pod ${name}`, err);
  }
}

export { CONTAINER as RUNTIME_CONTAINER };
