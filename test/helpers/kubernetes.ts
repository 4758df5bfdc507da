/**
 * Kubernetes test support. The tests run against a real cluster: the one KUBECONFIG names, else
 * the local one `.ci/kubernetes.sh` starts. Without a cluster they skip (and say so) only outside
 * CI — under CI=true a missing cluster fails them, because .ci/run starts one.
 */
import { existsSync } from 'node:fs';
import { after, before, type TestContext } from 'node:test';
import { connectCluster, type Cluster } from '../../src/kubernetes/client.js';
import { cleanEnv, runCli, tempDir, type CliResult } from './cli.js';
import { DOCKER_TESTS_OFF, pinnedRegistry } from './docker.js';
import { startOpenAiServer, type OpenAiServer } from './openai-server.js';

/** Where .ci/kubernetes.sh writes its kubeconfig. */
export const LOCAL_KUBECONFIG = '/var/lib/procctl-k8s/kubeconfig';

/** The kubeconfig the tests use: KUBECONFIG if set, else the local cluster's. */
export function testKubeconfig(): string | undefined {
  return process.env['KUBECONFIG'] ?? (existsSync(LOCAL_KUBECONFIG) ? LOCAL_KUBECONFIG : undefined);
}

/** The environment a child procctl gets to reach the test cluster in `namespace`. */
export function kubeEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const kubeconfig = testKubeconfig();
  return { ...(kubeconfig && { KUBECONFIG: kubeconfig }), ...extra };
}

let answering: Promise<Cluster | undefined> | undefined;

async function probe(): Promise<Cluster | undefined> {
  const kubeconfig = testKubeconfig();
  if (!kubeconfig) return undefined;
  try {
    const cluster = await connectCluster({ env: { ...process.env, KUBECONFIG: kubeconfig } });
    const nodes = await cluster.core.listNode();
    const ready = nodes.items.some((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    return ready ? cluster : undefined;
  } catch {
    return undefined;
  }
}

export function clusterAnswers(): Promise<Cluster | undefined> {
  // The cluster runs its pods on the shared Docker engine and its tests build images there: a pass
  // with Docker tests off (another Node version, after the full pass) leaves it alone too.
  if (DOCKER_TESTS_OFF) return Promise.resolve(undefined);
  answering ??= probe();
  return answering;
}

/** The cluster when the test may go on; skips it (outside CI) or throws (in CI) when none answers. */
export async function needKubernetes(t: TestContext): Promise<Cluster | undefined> {
  const cluster = await clusterAnswers();
  if (cluster) return cluster;
  if (DOCKER_TESTS_OFF) {
    t.skip('Kubernetes tests are off with Docker tests in this pass (run-tests --no-docker, PROCCTL_TEST_DOCKER=off); the full pass runs them');
    return undefined;
  }
  if (process.env['CI']) throw new Error('CI is set but no Kubernetes cluster with a Ready node answers: .ci/run should have started one (bash .ci/kubernetes.sh)');
  t.skip('no Kubernetes cluster answers (start one with bash .ci/kubernetes.sh, or set KUBECONFIG); skipped because CI is not set');
  return undefined;
}

/** A namespace of the test's own, so parallel test files and earlier runs never meet. */
export async function testNamespace(cluster: Cluster, prefix: string): Promise<string> {
  const name = `${prefix}-${process.pid}-${Date.now().toString(36)}`.slice(0, 63);
  await cluster.core.createNamespace({ body: { metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'procctl-tests' } } } });
  // The namespace's default service account is created a moment later by the controller manager.
  for (let i = 0; i < 100; i++) {
    try {
      await cluster.core.readNamespacedServiceAccount({ namespace: name, name: 'default' });
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return name;
}

export async function dropNamespace(cluster: Cluster, name: string): Promise<void> {
  await cluster.core.deleteNamespace({ name, propagationPolicy: 'Background' }).catch(() => undefined);
}

export interface ProcessorSuite {
  /** The suite's own namespace; '' when no cluster answers. */
  namespace: string;
  /** The pinned registry directory (see pinnedRegistry). */
  registry: string;
  /** An OpenAI-compatible provider on all interfaces: pods reach the host through the Docker bridge. */
  provider: OpenAiServer | undefined;
  /** The environment a child procctl gets: the test cluster, the pinned registry, then `extra`. */
  env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** `procctl kube ARGS --namespace <the suite's>` as a child process. */
  kube(args: string[], extra?: NodeJS.ProcessEnv, cwd?: string): Promise<CliResult>;
}

/**
 * Registers before/after hooks for a suite of processor-pod tests: a namespace of its own (named
 * from `namespacePrefix`), the pinned registry and a provider, all dropped afterwards. The fields
 * are filled in by the before hook, so read them inside tests, not when the suite is declared.
 */
export function processorSuite(namespacePrefix: string): ProcessorSuite {
  let cluster: Cluster | undefined;
  const suite: ProcessorSuite = {
    namespace: '',
    registry: '',
    provider: undefined,
    env: (extra = {}) => cleanEnv({ ...kubeEnv(), PROCCTL_REGISTRY: suite.registry, ...extra }),
    kube: (args, extra = {}, cwd = tempDir()) => runCli(['kube', ...args, '--namespace', suite.namespace], { env: suite.env(extra), cwd }),
  };
  before(async () => {
    cluster = await clusterAnswers();
    if (!cluster) return;
    suite.namespace = await testNamespace(cluster, namespacePrefix);
    suite.registry = await pinnedRegistry();
    suite.provider = await startOpenAiServer('0.0.0.0');
  });
  after(async () => {
    await suite.provider?.close();
    if (cluster && suite.namespace) await dropNamespace(cluster, suite.namespace);
  });
  return suite;
}
