/**
 * Builds the envelope an adapter returns, from the facts every placement knows the same way: the
 * snapshot's pinned digest for the Linux platform, the canonical inputs hash, the secret names.
 */
import { buildMeta, errorEnvelope, successEnvelope, type Envelope, type EnvelopeMeta } from '../contracts/envelope.js';
import { toProcctlError } from '../contracts/errors.js';
import { inputsHash, type Mode, type ResolvedInputs } from '../contracts/inputs.js';
import { hostPlatform } from '../contracts/platform.js';
import { outputRecords, type OutputPlan } from '../artifacts/outputs.js';
import { pinnedDigest, type RegistrySnapshot } from '../registry/registry.js';

export interface EnvelopeFacts {
  ref: string;
  executionId: string;
  mode: Mode;
  snapshot?: RegistrySnapshot;
  inputs?: ResolvedInputs;
  secretsPresent: readonly string[];
  platform?: string;
}

export function metaFor(facts: EnvelopeFacts): EnvelopeMeta {
  const platform = facts.platform ?? hostPlatform();
  return buildMeta({
    mode: facts.mode,
    imageDigest: facts.snapshot ? pinnedDigest(facts.snapshot, platform) : null,
    platform,
    inputsHash: facts.inputs ? inputsHash(facts.inputs) : null,
    // Mock runs are hermetic: no secret is used, so none is reported and the bytes do not depend
    // on what happens to be exported in the caller's shell.
    secretsPresent: facts.mode === 'real' ? facts.secretsPresent : [],
  });
}

export function successFor(facts: EnvelopeFacts, plan: OutputPlan): Envelope {
  return successEnvelope({ executionId: facts.executionId, ref: facts.ref, outputs: outputRecords(plan), indexPath: plan.indexPath, meta: metaFor(facts) });
}

export function failureFor(facts: EnvelopeFacts, err: unknown): Envelope {
  return errorEnvelope({ executionId: facts.executionId, ref: facts.ref, error: toProcctlError(err), meta: metaFor(facts) });
}
