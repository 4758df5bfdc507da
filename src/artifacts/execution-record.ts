/**
 * An execution id is an idempotency key. Before a run writes anything under its prefix it holds
 * the claim `<prefix>execution.json`, taken with the store's own exclusive create (a hard link on
 * a filesystem, `If-None-Match: *` on S3) and changed only by compare-and-swap (`If-Match`). The
 * rules (docs/execution-records.md has them for readers of the store):
 *
 * - no claim: this run creates one and runs;
 * - a claim for other inputs or another ref: ERR_EXECUTION_CONFLICT naming the recorded inputs
 *   hash; nothing is touched (unless `replace`);
 * - a finished successful claim for the same ref and inputs: the recorded envelope is the answer,
 *   byte for byte, and nothing runs;
 * - a claim in progress whose holder is alive (its lease unexpired, and, on this host, its pid
 *   alive): ERR_EXECUTION_CONFLICT, retryable;
 * - a claim that ended in an error, or whose holder died (pid gone on this host, or lease expired
 *   elsewhere), for the same inputs: this run takes it over; with other inputs only with `replace`.
 *
 * Taking over (or replacing) swaps the claim first, then removes the old records index first —
 * `outputs.json`, then the envelope and receipt, then every old output — so no reader ever sees an
 * index beside outputs it does not describe. The holder renews its lease while it runs.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { canonicalBytes } from '../contracts/canonical-json.js';
import type { Envelope } from '../contracts/envelope.js';
import { ProcctlError } from '../contracts/errors.js';
import { indexKey } from './outputs.js';
import type { ArtifactStore } from './store.js';

export const CLAIM_SCHEMA = 'execution-claim/v1';
/** How long a claim stays valid without renewal; the holder renews it every third of this. */
export const DEFAULT_LEASE_MS = 30_000;
/** Bounds the create / read / swap loop when other runs keep changing the claim under us. */
const MAX_ATTEMPTS = 5;

export interface ExecutionClaim {
  schema: typeof CLAIM_SCHEMA;
  execution_id: string;
  ref: string;
  inputs_hash: string;
  /** Unique per run that held the claim. */
  claim_id: string;
  state: 'running' | 'done';
  /** Set when done: the recorded envelope's status. */
  status: 'success' | 'error' | null;
  /** Who holds it, to tell a crashed holder on this host at once. */
  owner: { host: string; pid: number };
  lease_expires_at: string;
}

export const claimKey = (prefix: string): string => `${prefix}execution.json`;
export const envelopeKey = (prefix: string): string => `${prefix}envelope.json`;
export const receiptKey = (prefix: string): string => `${prefix}receipt.json`;

export interface ClaimRequest {
  executionId: string;
  ref: string;
  inputsHash: string;
  /** Take the id over even when the recorded run had other inputs (never one in progress). */
  replace?: boolean;
  leaseMs?: number;
}

/** The claim this run holds: renewed while running, marked done once the envelope is recorded. */
export interface HeldClaim {
  readonly claim: ExecutionClaim;
  /** Renews the lease now; false if the claim was taken from us (our lease had run out). */
  stillHeld(): Promise<boolean>;
  finish(status: 'success' | 'error'): Promise<boolean>;
}

export type ClaimOutcome = { kind: 'claimed'; held: HeldClaim } | { kind: 'recorded'; envelope: Envelope };

export async function claimExecution(store: ArtifactStore, prefix: string, request: ClaimRequest): Promise<ClaimOutcome> {
  const key = claimKey(prefix);
  const leaseMs = request.leaseMs ?? DEFAULT_LEASE_MS;
  const fresh = (): ExecutionClaim => ({
    schema: CLAIM_SCHEMA,
    execution_id: request.executionId,
    ref: request.ref,
    inputs_hash: request.inputsHash,
    claim_id: randomUUID(),
    state: 'running',
    status: null,
    owner: { host: hostname(), pid: process.pid },
    lease_expires_at: new Date(Date.now() + leaseMs).toISOString(),
  });
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const mine = fresh();
    const created = await store.create(key, canonicalBytes(mine), 'application/json');
    if (created !== undefined) {
      // Records left by a run from before claims existed, or by a swap that crashed half-way.
      await clearRecords(store, prefix);
      return { kind: 'claimed', held: holdClaim(store, key, mine, created, leaseMs) };
    }
    const current = await store.read(key);
    if (!current) continue; // removed between our create and read: try again
    const recorded = parseClaim(current.bytes);
    const same = recorded !== undefined && recorded.ref === request.ref && recorded.inputs_hash === request.inputsHash;
    if (recorded && recorded.state === 'running' && holderAlive(recorded)) {
      throw conflict(request, recorded, 'a run of it is in progress', true);
    }
    if (!same && !request.replace) throw conflict(request, recorded, 'it was run with other inputs', false);
    if (same && recorded && !request.replace && recorded.state === 'done' && recorded.status === 'success') {
      const envelope = await recordedEnvelope(store, prefix, recorded);
      if (envelope) return { kind: 'recorded', envelope };
    }
    const swapped = await store.replaceIf(key, canonicalBytes(mine), 'application/json', current.version);
    if (swapped === undefined) continue; // another run swapped first: look again
    await clearRecords(store, prefix);
    return { kind: 'claimed', held: holdClaim(store, key, mine, swapped, leaseMs) };
  }
  throw new ProcctlError('ERR_EXECUTION_CONFLICT', `execution ${request.executionId} changed hands ${MAX_ATTEMPTS} times while this run tried to claim it; try again`, { execution_id: request.executionId }, { retryable: true });
}

function holdClaim(store: ArtifactStore, key: string, claim: ExecutionClaim, version: string, leaseMs: number): HeldClaim {
  let current = version;
  let held = true;
  // One write at a time: renewals and the final mark never race each other.
  let chain: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => void swap(renewed()), Math.max(1000, Math.floor(leaseMs / 3)));
  timer.unref();
  const swap = (next: ExecutionClaim): Promise<boolean> => {
    const step = chain.then(async () => {
      if (!held) return false;
      const swapped = await store.replaceIf(key, canonicalBytes(next), 'application/json', current).catch(() => undefined);
      if (swapped === undefined) {
        held = false;
        clearInterval(timer);
      } else current = swapped;
      return held;
    });
    chain = step;
    return step;
  };
  const renewed = (): ExecutionClaim => ({ ...claim, lease_expires_at: new Date(Date.now() + leaseMs).toISOString() });
  return {
    claim,
    stillHeld: () => swap(renewed()),
    finish(status) {
      clearInterval(timer);
      return swap({ ...claim, state: 'done', status });
    },
  };
}

/** Removes a prefix's records, the index first, so a reader never sees an index that lies. */
export async function clearRecords(store: ArtifactStore, prefix: string): Promise<void> {
  // In this order: the index first, so no reader ever sees it beside outputs it does not describe.
  await store.remove([indexKey(prefix)]);
  await store.remove([envelopeKey(prefix), receiptKey(prefix)]);
  await store.remove(await store.list(`${prefix}outputs/`));
}

export function parseClaim(bytes: Buffer): ExecutionClaim | undefined {
  try {
    const value = JSON.parse(bytes.toString('utf8')) as Partial<ExecutionClaim>;
    if (value.schema !== CLAIM_SCHEMA || typeof value.inputs_hash !== 'string' || typeof value.ref !== 'string') return undefined;
    return value as ExecutionClaim;
  } catch {
    return undefined;
  }
}

/** Alive until its lease runs out; on this host a holder whose pid is gone is dead at once. */
function holderAlive(claim: ExecutionClaim): boolean {
  if (Date.parse(claim.lease_expires_at) <= Date.now()) return false;
  if (claim.owner?.host !== hostname() || !Number.isInteger(claim.owner.pid)) return true;
  try {
    process.kill(claim.owner.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function recordedEnvelope(store: ArtifactStore, prefix: string, claim: ExecutionClaim): Promise<Envelope | undefined> {
  const found = await store.read(envelopeKey(prefix));
  if (!found) return undefined;
  try {
    const envelope = JSON.parse(found.bytes.toString('utf8')) as Envelope;
    return envelope.meta?.inputs_hash === claim.inputs_hash && envelope.ref === claim.ref ? envelope : undefined;
  } catch {
    return undefined;
  }
}

function conflict(request: ClaimRequest, recorded: ExecutionClaim | undefined, why: string, retryable: boolean): ProcctlError {
  const hash = recorded?.inputs_hash ?? null;
  const hint = retryable ? 'wait for it, or use another --execution-id' : 'use another --execution-id, or --replace to discard the recorded run';
  return new ProcctlError(
    'ERR_EXECUTION_CONFLICT',
    `execution id ${request.executionId} is taken: ${why} (recorded ref ${recorded?.ref ?? 'unknown'}, inputs ${hash ?? 'unknown'}; this run has ${request.ref}, inputs ${request.inputsHash}); ${hint}`,
    { execution_id: request.executionId, recorded_ref: recorded?.ref ?? null, recorded_inputs_hash: hash, inputs_hash: request.inputsHash, in_progress: retryable },
    { retryable },
  );
}
