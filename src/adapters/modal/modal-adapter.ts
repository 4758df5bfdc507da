/**
 * The Modal adapter: the run goes over the runtime protocol, through the tunnel of the started
 * deployment (`modalctl start`), to procctl-runtime in a Modal sandbox. A library user constructs
 * it with the Modal environment; `procctl run --adapter modal` and `modalctl run` use this class.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { ProcctlError } from '../../contracts/errors.js';
import type { Envelope } from '../../contracts/envelope.js';
import { hostPlatform } from '../../contracts/platform.js';
import type { ArtifactStore } from '../../artifacts/store.js';
import { preflight } from '../../execution/run-handler.js';
import type { RegistrySnapshot } from '../../registry/registry.js';
import { failureFor } from '../envelope-for.js';
import { invocationFacts, requireMode } from '../invocation.js';
import { CONNECTION_LOST } from '../connection-lost.js';
import { RuntimeAdapter } from '../runtime-adapter.js';
import type { Adapter, InvokeArgs } from '../types.js';
import type { Mode } from '../../contracts/inputs.js';

export interface ModalAdapterDeps {
  store: ArtifactStore;
  /** The Modal environment the deployments live in (`--env`). */
  env: string;
  /** Where GIT_BRANCH / GIT_USER come from (they name the deployment). */
  processEnv?: NodeJS.ProcessEnv;
}

// The Modal SDK loads inside invoke: constructing the adapter costs nothing.
const deployments = () => import('../../modal/deployments.js');

export class ModalAdapter implements Adapter {
  readonly name = 'modal';
  private readonly deps: ModalAdapterDeps;
  /** One protocol client per sandbox, so warm invokes reuse the connection through the tunnel. */
  private readonly runtimes = new Map<string, RuntimeAdapter>();

  constructor(deps: ModalAdapterDeps) {
    this.deps = deps;
  }

  /**
   * The deployment last found per mode: warm invokes go straight through the tunnel. A deployment
   * that ended (or was replaced) shows up as a lost connection, and is looked up again.
   */
  private readonly found = new Map<string, Promise<FoundDeployment>>();

  private runtimeFor(deployment: FoundDeployment): RuntimeAdapter {
    let runtime = this.runtimes.get(deployment.sandboxId);
    if (!runtime) {
      runtime = new RuntimeAdapter({ url: deployment.url, token: deployment.token, store: this.deps.store, name: this.name });
      this.runtimes.set(deployment.sandboxId, runtime);
    }
    return runtime;
  }

  private forget(mode: string, deployment: FoundDeployment): void {
    this.found.delete(`${deployment.ref}|${mode}`);
    this.runtimes.get(deployment.sandboxId)?.close();
    this.runtimes.delete(deployment.sandboxId);
  }

  private lookup(modal: Deployments, args: InvokeArgs, mode: Mode, fresh: boolean): Promise<FoundDeployment> {
    const key = `${args.processorRef}|${mode}`;
    let found = fresh ? undefined : this.found.get(key);
    if (!found) {
      found = modal.findDeployment({ snapshot: args.registrySnapshot, env: this.deps.env, mode, ...(this.deps.processEnv && { processEnv: this.deps.processEnv }) });
      this.found.set(key, found);
      found.catch(() => this.found.delete(key));
    }
    return found;
  }

  /** Closes connections and the Modal clients this process opened. */
  async close(): Promise<void> {
    for (const runtime of this.runtimes.values()) runtime.close();
    this.runtimes.clear();
    this.found.clear();
    await (await deployments()).closeClients();
  }

  async invoke(args: InvokeArgs): Promise<Envelope> {
    const facts = invocationFacts(args);
    try {
      const inputs = requireMode(args);
      facts.inputs = inputs;
      preflight(args.registrySnapshot, inputs, args.secretsPresent);
      const modal = await deployments();
      const { digest } = modal.imageFor(args.registrySnapshot);
      let cached = this.found.has(`${args.processorRef}|${inputs.mode}`);
      for (;;) {
        const deployment = await this.lookup(modal, args, inputs.mode, false);
        if (!deployment.token) throw new ProcctlError('ERR_FUNCTION_NOT_FOUND', `the sandbox ${deployment.name} was not started by modalctl (it has no runtime token tag)`, { name: deployment.name });
        // A deployment started with --oci runs that digest: the envelope names what really ran.
        const snapshot = deployment.digest === digest ? args.registrySnapshot : withDigest(args.registrySnapshot, deployment.digest);
        facts.snapshot = snapshot;
        const envelope = await this.runtimeFor(deployment).invoke({ ...args, registrySnapshot: snapshot });
        if (envelope.status !== 'error' || !CONNECTION_LOST.has(envelope.error.code)) return envelope;
        this.forget(inputs.mode, deployment);
        const exit = await settledExit(modal, deployment.sandbox, this.deps.env);
        if (exit.running) return envelope;
        // Ended under a cached handle: a newer deployment may have replaced it; look once more.
        if (cached) {
          cached = false;
          const again = await this.lookup(modal, args, inputs.mode, true).catch(() => undefined);
          if (again && again.sandboxId !== deployment.sandboxId) continue;
        }
        return failureFor(facts, new ProcctlError('ERR_CONTAINER_EXIT', `sandbox ${deployment.name} ${modal.describeExit(exit)} during the run${await modal.lastWords(deployment.sandbox)}`, { exit_code: exit.exitCode, oom_killed: exit.oomKilled, reason: exit.reason }, { retryable: !exit.oomKilled }));
      }
    } catch (err) {
      return failureFor(facts, err);
    }
  }
}

type Deployments = Awaited<ReturnType<typeof deployments>>;
type FoundDeployment = Awaited<ReturnType<Deployments['findDeployment']>>;

function withDigest(snapshot: RegistrySnapshot, digest: string): RegistrySnapshot {
  return { ...snapshot, entry: { ...snapshot.entry, image: { ...snapshot.entry.image, digests: { ...snapshot.entry.image.digests, [hostPlatform()]: digest } } } };
}

/** Modal notices a sandbox's end a moment after its tunnel drops: watch for a short while. */
async function settledExit(modal: Deployments, sandbox: FoundDeployment['sandbox'], env: string, withinMs = 3000) {
  const client = await modal.clientFor(env);
  const deadline = Date.now() + withinMs;
  for (;;) {
    const exit = await modal.sandboxExit(client, sandbox);
    if (!exit.running || Date.now() > deadline) return exit;
    await delay(100);
  }
}
