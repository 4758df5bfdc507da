/**
 * The client's half of an invoke: which attachment bytes to send (every artifact reference in the
 * params, once per content id, read from the store) and the invoke frame's text. The registry
 * snapshot is the bulk of the frame and the same for every invoke of a processor, so its JSON is
 * made once per snapshot object, and a connection sends it in full only once.
 */
import { collectArtifactRefs } from '../artifacts/attachments.js';
import type { ArtifactStore } from '../artifacts/store.js';
import type { InvocationArgs } from '../adapters/invocation.js';
import type { RegistrySnapshot } from '../registry/registry.js';
import type { AttachmentDecl } from './frames.js';

export interface OutgoingAttachments {
  decls: AttachmentDecl[];
  bytes: Buffer[];
}

/**
 * Reads the referenced attachments. Bytes are sent as stored, unchecked: the runtime checks each
 * against its content id when the handler reads it, exactly where the in-process placement does,
 * so a damaged store fails the same way in both. One the store cannot read is left out, and the
 * handler's read of it fails in the runtime.
 */
export async function gatherAttachments(store: ArtifactStore, params: unknown): Promise<OutgoingAttachments> {
  const refs = collectArtifactRefs(params);
  const out: OutgoingAttachments = { decls: [], bytes: [] };
  if (refs.length === 0) return out;
  const seen = new Set<string>();
  for (const ref of refs) {
    if (seen.has(ref.cid)) continue;
    seen.add(ref.cid);
    const bytes = await store.get(ref.$artifact).catch(() => undefined);
    if (!bytes) continue;
    out.decls.push({ cid: ref.cid, size_bytes: bytes.byteLength });
    out.bytes.push(bytes);
  }
  return out;
}

const snapshotJson = new WeakMap<RegistrySnapshot, { full: string; reference: string }>();

function snapshotText(snapshot: RegistrySnapshot, withEntry: boolean): string {
  let texts = snapshotJson.get(snapshot);
  if (texts === undefined) {
    texts = {
      full: JSON.stringify({ ref: snapshot.ref, slug: snapshot.slug, entry: snapshot.entry, entry_cid: snapshot.entry_cid }),
      reference: JSON.stringify({ ref: snapshot.ref, slug: snapshot.slug, entry_cid: snapshot.entry_cid }),
    };
    snapshotJson.set(snapshot, texts);
  }
  return withEntry ? texts.full : texts.reference;
}

/**
 * The invoke frame. `withEntry: false` leaves the registry entry out, for a connection that has
 * already carried this `entry_cid` in full (the runtime remembers it per connection).
 */
export function invokeFrameText(args: InvocationArgs, attachments: AttachmentDecl[], timeoutS?: number, withEntry = true): string {
  const head = JSON.stringify({
    kind: 'invoke',
    execution_id: args.executionId,
    ref: args.processorRef,
    inputs: args.inputsJson,
    write_prefix: args.writePrefix,
    secrets_present: args.secretsPresent,
    attachments,
    ...(timeoutS !== undefined && { timeout_s: timeoutS }),
  });
  return `${head.slice(0, -1)},"registry_snapshot":${snapshotText(args.registrySnapshot, withEntry)}}`;
}
