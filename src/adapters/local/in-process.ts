/**
 * The local adapter's in-process placement: the processor's handler runs inside this Node process,
 * outputs go straight to the artifact store. No Docker, no network — the embedded default.
 */
import { ProcctlError } from '../../contracts/errors.js';
import { checkInputs, type ResolvedInputs } from '../../contracts/inputs.js';
import { readArtifact } from '../../artifacts/attachments.js';
import { resolveWritePrefix } from '../../artifacts/paths.js';
import { writeOutputs } from '../../artifacts/outputs.js';
import type { ArtifactStore } from '../../artifacts/store.js';
import { loadProcessor } from '../../execution/load-processor.js';
import { runHandler } from '../../execution/run-handler.js';
import { failureFor, successFor, type EnvelopeFacts } from '../envelope-for.js';
import type { Adapter, InvokeArgs } from '../types.js';

export interface InProcessAdapterDeps {
  store: ArtifactStore;
  /** A registry folder that may hold user handler modules (`<slug>/handler.js`). */
  registryDir?: string;
  /** Where secret values come from; defaults to this process's environment. */
  env?: NodeJS.ProcessEnv;
}

/** Inputs as adapters take them: mode is required, never inferred. */
export function requireMode(args: InvokeArgs): ResolvedInputs {
  const inputs = checkInputs(args.inputsJson, 'inputsJson');
  if (inputs.mode === undefined) throw new ProcctlError('ERR_INPUT_INVALID', 'inputsJson has no "mode"; adapters take it explicitly ("mock" or "real")', { pointer: '/mode' });
  return inputs as ResolvedInputs;
}

export class InProcessAdapter implements Adapter {
  readonly name = 'local';
  private readonly deps: InProcessAdapterDeps;

  constructor(deps: InProcessAdapterDeps) {
    this.deps = deps;
  }

  async invoke(args: InvokeArgs) {
    const facts: EnvelopeFacts = {
      ref: args.processorRef,
      executionId: args.executionId,
      mode: args.inputsJson.mode ?? 'mock',
      snapshot: args.registrySnapshot,
      secretsPresent: args.secretsPresent,
    };
    try {
      const inputs = requireMode(args);
      facts.inputs = inputs;
      if (args.registrySnapshot.ref !== args.processorRef) {
        throw new ProcctlError('ERR_REGISTRY_INVALID', `registry snapshot is for ${args.registrySnapshot.ref}, not ${args.processorRef}`);
      }
      const prefix = resolveWritePrefix(args.writePrefix, args.executionId);
      const definition = await loadProcessor(args.registrySnapshot.slug, this.deps.registryDir);
      const plan = await runHandler({
        definition,
        snapshot: args.registrySnapshot,
        inputs,
        executionId: args.executionId,
        writePrefix: prefix,
        secretsPresent: args.secretsPresent,
        env: this.deps.env ?? process.env,
        readAttachment: (ref) => readArtifact(this.deps.store, ref),
        ...(args.adapterOpts.onEvent && { onEvent: args.adapterOpts.onEvent }),
        ...(args.adapterOpts.signal && { signal: args.adapterOpts.signal }),
        ...(args.adapterOpts.timeoutS !== undefined && { timeoutS: args.adapterOpts.timeoutS }),
      });
      await writeOutputs(this.deps.store, plan, args.executionId, args.processorRef);
      return successFor(facts, plan);
    } catch (err) {
      return failureFor(facts, err);
    }
  }
}
