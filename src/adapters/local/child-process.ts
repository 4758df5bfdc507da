/**
 * The local adapter's process placement: for each invoke, the processor runtime starts as a child
 * process, the run goes over the `procctl.run.v1` WebSocket protocol exactly as it would to a
 * container, and the runtime is stopped. It exercises the whole container path without Docker,
 * and its envelopes are byte-identical to the in-process placement's.
 */
import type { Envelope } from '../../contracts/envelope.js';
import type { ArtifactStore } from '../../artifacts/store.js';
import { failureFor } from '../envelope-for.js';
import { invocationFacts } from '../invocation.js';
import { RuntimeAdapter } from '../runtime-adapter.js';
import type { Adapter, InvokeArgs } from '../types.js';
import { startRuntimeProcess, type RuntimeProcessOptions } from './runtime-process.js';

/** How long the one-off runtime may take to exit once its run has its result. */
const STOP_GRACE_MS = 1_000;

export interface ChildProcessAdapterDeps {
  store: ArtifactStore;
  /** A registry folder that may hold user handler modules; the runtime gets it as PROCCTL_REGISTRY. */
  registryDir?: string;
  /** The runtime's environment, secrets included; defaults to this process's. */
  env?: NodeJS.ProcessEnv;
  /** Extra PROCCTL_RUNTIME_* settings for the runtime. */
  settings?: RuntimeProcessOptions['settings'];
}

export class ChildProcessAdapter implements Adapter {
  readonly name = 'local-process';
  private readonly deps: ChildProcessAdapterDeps;

  constructor(deps: ChildProcessAdapterDeps) {
    this.deps = deps;
  }

  async invoke(args: InvokeArgs): Promise<Envelope> {
    let runtime;
    try {
      runtime = await startRuntimeProcess({
        ...(this.deps.env && { env: this.deps.env }),
        ...(this.deps.registryDir !== undefined && { registryDir: this.deps.registryDir }),
        ...(this.deps.settings && { settings: this.deps.settings }),
      });
    } catch (err) {
      return failureFor(invocationFacts(args), err);
    }
    const adapter = new RuntimeAdapter({ url: runtime.url, token: runtime.token, store: this.deps.store, name: this.name });
    try {
      return await adapter.invoke(args);
    } finally {
      adapter.close();
      // The run is over: a handler still going (one that ignored its abort) need not hold the
      // envelope back for the runtime's whole grace.
      await runtime.stop(STOP_GRACE_MS);
    }
  }
}
