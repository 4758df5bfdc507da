/**
 * The local adapter's in-process placement: the processor's handler runs inside this Node process,
 * outputs go straight to the artifact store. No Docker, no network — the embedded default.
 */
import { readArtifact } from '../../artifacts/attachments.js';
import { writeOutputs } from '../../artifacts/outputs.js';
import type { ArtifactStore } from '../../artifacts/store.js';
import { failureFor, successFor } from '../envelope-for.js';
import { executeInvocation, invocationFacts } from '../invocation.js';
import type { Adapter, InvokeArgs } from '../types.js';

export interface InProcessAdapterDeps {
  store: ArtifactStore;
  /** A registry folder that may hold user handler modules (`<slug>/handler.js`). */
  registryDir?: string;
  /** Where secret values come from; defaults to this process's environment. */
  env?: NodeJS.ProcessEnv;
}

export class InProcessAdapter implements Adapter {
  readonly name = 'local';
  private readonly deps: InProcessAdapterDeps;

  constructor(deps: InProcessAdapterDeps) {
    this.deps = deps;
  }

  async invoke(args: InvokeArgs) {
    const facts = invocationFacts(args);
    try {
      const plan = await executeInvocation(args, facts, {
        ...args.adapterOpts,
        ...(this.deps.registryDir !== undefined && { registryDir: this.deps.registryDir }),
        env: this.deps.env ?? process.env,
        readAttachment: (ref) => readArtifact(this.deps.store, ref),
      });
      await writeOutputs(this.deps.store, plan, args.executionId, args.processorRef);
      return successFor(facts, plan);
    } catch (err) {
      return failureFor(facts, err);
    }
  }
}
