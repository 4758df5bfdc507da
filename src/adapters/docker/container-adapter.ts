/**
 * The local adapter's container placement: the run goes over the runtime protocol to a processor
 * container on the local engine. Either the started one (`localctl start`) or, when allowed and
 * none is running, a container started for this one run and removed after it.
 */
import { ProcctlError } from '../../contracts/errors.js';
import type { Envelope } from '../../contracts/envelope.js';
import type { ArtifactStore } from '../../artifacts/store.js';
import type { ContainerHandle } from '../../docker/handle.js';
import type { Progress } from '../../docker/images.js';
import { startedContainerName } from '../../docker/labels.js';
import { pinnedReference } from '../../docker/pinned.js';
import { dropStartedEntry, writeStartedEntry } from '../../docker/started-cache.js';
import { warmStarted } from '../../docker/warm-started.js';
import { failureFor } from '../envelope-for.js';
import { preflight } from '../../execution/run-handler.js';
import { invocationFacts, requireMode } from '../invocation.js';
import { CONNECTION_LOST } from '../connection-lost.js';
import { RuntimeAdapter } from '../runtime-adapter.js';
import type { Adapter, InvokeArgs } from '../types.js';

export interface ContainerAdapterDeps {
  store: ArtifactStore;
  /** `started`: only a started container serves; `started-or-ephemeral`: else start one for the run. */
  policy: 'started' | 'started-or-ephemeral';
  env?: NodeJS.ProcessEnv;
  progress?: Progress;
}

// The engine side (the Docker client among it) loads only when the warm path does not serve.
const containers = () => import('../../docker/containers.js');

export class ContainerAdapter implements Adapter {
  readonly name = 'local-container';
  private readonly deps: ContainerAdapterDeps;
  /** One protocol client per container (by id: a container keeps its address), so warm invokes reuse connections. */
  private readonly runtimes = new Map<string, RuntimeAdapter>();

  constructor(deps: ContainerAdapterDeps) {
    this.deps = deps;
  }

  private runtimeFor(handle: ContainerHandle): RuntimeAdapter {
    let runtime = this.runtimes.get(handle.id);
    if (!runtime) {
      runtime = new RuntimeAdapter({ url: handle.endpoint, token: handle.token, store: this.deps.store, name: this.name });
      this.runtimes.set(handle.id, runtime);
    }
    return runtime;
  }

  private forget(handle: ContainerHandle): void {
    this.runtimes.get(handle.id)?.close();
    this.runtimes.delete(handle.id);
  }

  /** Closes idle connections to every container this adapter talked to. */
  close(): void {
    for (const runtime of this.runtimes.values()) runtime.close();
    this.runtimes.clear();
  }

  async invoke(args: InvokeArgs): Promise<Envelope> {
    const facts = invocationFacts(args);
    let handle: ContainerHandle | undefined;
    let ephemeral = false;
    try {
      const inputs = requireMode(args);
      facts.inputs = inputs;
      // The same checks the runtime makes, before any container is touched.
      preflight(args.registrySnapshot, inputs, args.secretsPresent);
      const { digest } = pinnedReference(args.registrySnapshot);
      const name = startedContainerName(args.registrySnapshot.slug, inputs.mode);
      // Warm path: the remembered container, answering /healthz with the pin right now. A 401 at
      // the WebSocket upgrade (before any frame is sent) means another container holds that
      // address: the engine is asked and the run goes there instead.
      const warm = await warmStarted(name, digest);
      if (warm) {
        const envelope = await this.runtimeFor(warm).invoke(args);
        if (envelope.status === 'success' || !CONNECTION_LOST.has(envelope.error.code) && envelope.error.code !== 'ERR_RUNTIME_AUTH') return envelope;
        this.forget(warm);
        dropStartedEntry(name);
        if (envelope.error.code !== 'ERR_RUNTIME_AUTH') return await this.afterLostConnection(warm, facts, envelope);
      }
      const { findStarted, notRunningError, startContainer } = await containers();
      const started = await findStarted(args.registrySnapshot, inputs.mode);
      if (started && !started.running && this.deps.policy === 'started') throw notRunningError(args.processorRef, inputs.mode, started);
      handle = started?.running ? started : undefined;
      if (handle && handle.digest !== digest) {
        throw new ProcctlError('ERR_DIGEST_MISMATCH', `container ${handle.name} runs ${handle.digest}, but ${args.processorRef} now pins ${digest}; restart it with localctl start --ref ${args.processorRef}`, { expected: digest, actual: handle.digest });
      }
      if (handle) writeStartedEntry(handle);
      if (!handle) {
        if (this.deps.policy === 'started') throw notRunningError(args.processorRef, inputs.mode);
        ephemeral = true;
        handle = await startContainer({ snapshot: args.registrySnapshot, mode: inputs.mode, scope: 'ephemeral', ...(this.deps.env && { env: this.deps.env }), ...(this.deps.progress && { progress: this.deps.progress }) });
      }
      const envelope = await this.runtimeFor(handle).invoke(args);
      if (envelope.status === 'error' && CONNECTION_LOST.has(envelope.error.code)) {
        if (handle.scope === 'started') dropStartedEntry(handle.name);
        return await this.afterLostConnection(handle, facts, envelope);
      }
      return envelope;
    } catch (err) {
      return failureFor(facts, err);
    } finally {
      if (ephemeral && handle) {
        this.forget(handle);
        const { removeContainer } = await containers();
        await removeContainer(handle.id, 2).catch(() => undefined);
      }
    }
  }

  /** A connection that failed may be the container dying underneath it: if it stopped, say so. */
  private async afterLostConnection(handle: ContainerHandle, facts: ReturnType<typeof invocationFacts>, envelope: Envelope): Promise<Envelope> {
    this.forget(handle);
    const { containerExitError, settledExitFacts } = await containers();
    const exit = await settledExitFacts(handle.id);
    return exit.running ? envelope : failureFor(facts, await containerExitError(handle, exit));
  }
}
