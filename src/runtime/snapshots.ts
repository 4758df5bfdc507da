/**
 * Registry snapshots as the runtime receives them in invoke frames. A snapshot is checked once —
 * its entry is the content its `entry_cid` names, valid against the entry schema, for the ref and
 * slug it claims — and then known by that content id, so a warm invoke neither hashes nor
 * validates the entry again, and compiled schema validators stay attached to one entry object.
 */
import { canonicalContentId } from '../contracts/content-id.js';
import { ProcctlError } from '../contracts/errors.js';
import { compileSchema, formatProblems, validateAgainst } from '../contracts/validator.js';
import type { RegistryEntry } from '../registry/entry.js';
import { REGISTRY_ENTRY_SCHEMA } from '../registry/entry-schema.js';
import { parseRef } from '../registry/ref.js';
import type { RegistrySnapshot } from '../registry/registry.js';

const MAX_KNOWN = 256;

export class SnapshotCache {
  private readonly known = new Map<string, RegistrySnapshot>();

  verify(raw: RegistrySnapshot): RegistrySnapshot {
    const hit = this.known.get(raw.entry_cid);
    if (hit && hit.ref === raw.ref && hit.slug === raw.slug) return hit;
    const invalid = (why: string, details?: Record<string, unknown>) => new ProcctlError('ERR_REGISTRY_INVALID', `registry snapshot for ${raw.ref}: ${why}`, { ref: raw.ref, ...details });
    const cid = canonicalContentId(raw.entry);
    if (cid !== raw.entry_cid) throw invalid(`entry_cid ${raw.entry_cid} is not the content id of its entry (${cid})`, { entry_cid: raw.entry_cid, actual: cid });
    const problems = validateAgainst(REGISTRY_ENTRY_SCHEMA, raw.entry);
    if (problems.length > 0) throw invalid(`the entry is not valid: ${formatProblems(problems, 'entry')}`);
    const entry = raw.entry as RegistryEntry;
    const ref = parseRef(raw.ref);
    if (entry.ref !== ref.text || raw.slug !== ref.slug) throw invalid(`ref ${raw.ref}, slug ${raw.slug} and entry ref ${entry.ref} do not agree`);
    // Schema-valid is not enough: a $ref to another document would fail every run as internal.
    try {
      compileSchema(entry.inputs_schema);
    } catch (err) {
      throw invalid(`the entry's inputs_schema does not compile: ${(err as Error).message}`);
    }
    const snapshot: RegistrySnapshot = { ref: ref.text, slug: ref.slug, entry, entry_cid: cid };
    if (this.known.size >= MAX_KNOWN) this.known.delete(this.known.keys().next().value as string);
    this.known.set(cid, snapshot);
    return snapshot;
  }
}
