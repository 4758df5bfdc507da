/**
 * The Kubernetes adapter: the run goes over the runtime protocol to the processor's started pod
 * (`procctl kube start`), reached through the API server's port-forward — the route a user outside
 * the cluster has — never a pod IP.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { ProcctlError } from '../../contracts/errors.js';
import type { Envelope } from '../../contracts/envelope.js';
import type { ArtifactStore } from '../../artifacts/store.js';
import { pinnedReference } from '../../docker/pinned.js';
import { preflight } from '../../execution/run-handler.js';
import { connectCluster, type Cluster, type ClusterOptions } from '../../kubernetes/client.js';
import { forwardPort, type Forwarder } from '../../kubernetes/port-forward.js';
import { findProcessorPod, podNotStarted, podToken } from '../../kubernetes/processors.js';
import { RUNTIME_PORT } from '../../docker/images.js';
import { failureFor } from '../envelope-for.js';
import { invocationFacts, requireMode } from '../invocation.js';
import { CONNECTION_LOST } from '../connection-lost.js';
import { RuntimeAdapter } from '../runtime-adapter.js';
import type { Adapter, InvokeArgs } from '../types.js';

export interface KubernetesAdapterDeps extends ClusterOptions {
  store: ArtifactStore;
}

interface Route {
  uid: string;
  forwarder: Forwarder;
  runtime: RuntimeAdapter;
}

export class KubernetesAdapter implements Adapter {
  readonly name = 'kubernetes';
  private readonly deps: KubernetesAdapterDeps;
  private cluster: Promise<Cluster> | undefined;
  /** One port-forward and protocol client per pod (by uid: a recreated pod is another route). */
  private readonly routes = new Map<string, Route>();

  constructor(deps: KubernetesAdapterDeps) {
    this.deps = deps;
  }

  private connect(): Promise<Cluster> {
    this.cluster ??= connectCluster(this.deps);
    return this.cluster;
  }

  private async routeTo(cluster: Cluster, podName: string, uid: string, slug: string, mode: 'mock' | 'real'): Promise<Route> {
    const known = this.routes.get(podName);
    if (known?.uid === uid) return known;
    if (known) this.forget(podName);
    const [forwarder, token] = await Promise.all([forwardPort(cluster, podName, RUNTIME_PORT), podToken(cluster, slug, mode)]);
    const route = { uid, forwarder, runtime: new RuntimeAdapter({ url: forwarder.url, token, store: this.deps.store, name: this.name }) };
    this.routes.set(podName, route);
    return route;
  }

  private forget(podName: string): void {
    const route = this.routes.get(podName);
    if (!route) return;
    route.runtime.close();
    void route.forwarder.close();
    this.routes.delete(podName);
  }

  /** Closes the port-forwards and idle connections. */
  close(): void {
    for (const name of [...this.routes.keys()]) this.forget(name);
  }

  async invoke(args: InvokeArgs): Promise<Envelope> {
    const facts = invocationFacts(args);
    try {
      const inputs = requireMode(args);
      facts.inputs = inputs;
      // A real pod holds the secrets synced into the cluster, not this shell's: the checks are made
      // against the names it was given.
      if (inputs.mode === 'mock') preflight(args.registrySnapshot, inputs, args.secretsPresent);
      const { digest } = pinnedReference(args.registrySnapshot);
      const cluster = await this.connect();
      const found = await findProcessorPod(cluster, args.registrySnapshot.slug, inputs.mode);
      if (!found) throw podNotStarted(args.processorRef, inputs.mode, cluster);
      if (found.failure) throw found.failure;
      if (inputs.mode === 'real') {
        const declared = [...args.registrySnapshot.entry.secrets.required, ...(args.registrySnapshot.entry.secrets.optional ?? [])];
        args = { ...args, secretsPresent: found.handle.passed.filter((name) => declared.includes(name)).sort() };
        facts.secretsPresent = args.secretsPresent;
        preflight(args.registrySnapshot, inputs, args.secretsPresent);
      }
      if (found.handle.digest !== digest) {
        throw new ProcctlError('ERR_DIGEST_MISMATCH', `pod ${found.handle.name} runs ${found.handle.digest}, but ${args.processorRef} now pins ${digest}; restart it with procctl kube start --ref ${args.processorRef}`, { expected: digest, actual: found.handle.digest });
      }
      const route = await this.routeTo(cluster, found.handle.name, found.pod.metadata?.uid ?? '', args.registrySnapshot.slug, inputs.mode);
      const envelope = await route.runtime.invoke(args);
      if (envelope.status === 'error' && CONNECTION_LOST.has(envelope.error.code)) {
        this.forget(found.handle.name);
        const failure = await settledFailure(cluster, args.registrySnapshot.slug, inputs.mode);
        if (failure) return failureFor(facts, failure);
      }
      return envelope;
    } catch (err) {
      return failureFor(facts, err);
    }
  }
}

/**
 * After a dropped connection: did the pod's runtime die? The kubelet reports a container's end a
 * moment (up to its sync period) after the socket closed, so the pod is watched for a while before
 * the failure is put down to the connection alone.
 */
async function settledFailure(cluster: Cluster, slug: string, mode: 'mock' | 'real', withinMs = 15_000): Promise<ProcctlError | undefined> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const found = await findProcessorPod(cluster, slug, mode).catch(() => undefined);
    if (!found) return undefined;
    if (found.failure) return found.failure;
    if (Date.now() > deadline) return undefined;
    await delay(200);
  }
}
