/**
 * The envelope: the one result shape every adapter returns. It holds nothing that varies between
 * runs of the same work (no clock, host, pid or random value) so its canonical bytes are equal
 * wherever the work ran; timings live in a separate receipt.
 */
import { canonicalContentId } from './content-id.js';
import type { ErrorCode, ErrorDetails, ProcctlError } from './errors.js';
import { jsonValueProblem, wellFormed } from './i-json.js';
import type { Mode } from './inputs.js';

export interface OutputRecord {
  path: string;
  cid: string;
  size_bytes: number;
  mime: string;
}

export interface EnvelopeMeta {
  mode: Mode;
  image_digest: string | null;
  platform: string;
  inputs_hash: string | null;
  secrets_present: string[];
  env_fingerprint: string;
}

export interface SuccessEnvelope {
  status: 'success';
  execution_id: string;
  ref: string;
  outputs: OutputRecord[];
  index_path: string;
  meta: EnvelopeMeta;
}

export interface ErrorEnvelope {
  status: 'error';
  execution_id: string;
  ref: string;
  error: { code: ErrorCode; message: string; retryable: boolean; details?: ErrorDetails };
  meta: EnvelopeMeta;
}

export type Envelope = SuccessEnvelope | ErrorEnvelope;

export interface MetaFacts {
  mode: Mode;
  imageDigest: string | null;
  platform: string;
  inputsHash: string | null;
  secretsPresent: readonly string[];
}

/**
 * The environment fingerprint covers what changes results besides the inputs: the image, the
 * platform and which secrets were present — by name only, never a value.
 */
export function buildMeta(facts: MetaFacts): EnvelopeMeta {
  const secrets = [...new Set(facts.secretsPresent)].sort();
  return {
    mode: facts.mode,
    image_digest: facts.imageDigest,
    platform: facts.platform,
    inputs_hash: facts.inputsHash,
    secrets_present: secrets,
    env_fingerprint: envFingerprint(facts.imageDigest, facts.platform, secrets),
  };
}

// A long-lived runtime computes the same few fingerprints on every invoke; they are remembered.
const fingerprints = new Map<string, string>();

function envFingerprint(imageDigest: string | null, platform: string, secrets: string[]): string {
  const key = JSON.stringify([imageDigest, platform, secrets]);
  let fingerprint = fingerprints.get(key);
  if (fingerprint === undefined) {
    fingerprint = canonicalContentId({ image_digest: imageDigest, platform, secrets_present: secrets });
    if (fingerprints.size >= 256) fingerprints.clear();
    fingerprints.set(key, fingerprint);
  }
  return fingerprint;
}

export function successEnvelope(args: { executionId: string; ref: string; outputs: OutputRecord[]; indexPath: string; meta: EnvelopeMeta }): SuccessEnvelope {
  const outputs = [...args.outputs].sort((a, b) => compareCodeUnits(a.path, b.path));
  return { status: 'success', execution_id: args.executionId, ref: args.ref, outputs, index_path: args.indexPath, meta: args.meta };
}

export function errorEnvelope(args: { executionId: string; ref: string; error: ProcctlError; meta: EnvelopeMeta }): ErrorEnvelope {
  const { code, message, retryable, details } = args.error;
  // Building an envelope must never throw, whatever a failure carries: a message quoting a user's
  // string keeps its text (lone surrogates become U+FFFD), and details that are not I-JSON (a
  // handler's deep or cyclic object) are replaced by a note saying why.
  const error: ErrorEnvelope['error'] = { code, message: wellFormed(message), retryable };
  if (details !== undefined) {
    const problem = jsonValueProblem(details);
    error.details = problem ? { details_dropped: `the details were not I-JSON: ${wellFormed(problem.message)}` } : details;
  }
  return { status: 'error', execution_id: args.executionId, ref: args.ref, error, meta: args.meta };
}

/** Sorting by UTF-16 code units matches RFC 8785's key order, so lists and keys sort alike. */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
