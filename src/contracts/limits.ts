/**
 * The one set of limits on what a run may carry, the same in every placement: checked before the
 * run starts (before any attachment byte is read, stored or sent), as typed input and attachment
 * errors, so the same inputs get the same envelope in-process, over the protocol and in a
 * container. The protocol's own frame limits (16 MiB frames, 1 MiB chunks) sit above these: a run
 * within them always fits its frames. README ("Limits") and docs/protocol.md list them.
 */
import { ProcctlError } from './errors.js';
import { DEFAULT_MAX_INPUT_BYTES } from './inputs.js';

const MiB = 1024 * 1024;

export const LIMITS = {
  /** The inputs document as given (placeholders and all). */
  inputBytes: DEFAULT_MAX_INPUT_BYTES,
  /** `{"$attach"}` placeholders, and so artifact references, in one run's params. */
  attachmentRefs: 4096,
  /** Distinct attachments (content ids) in one run: the protocol's MAX_ATTACHMENTS. */
  attachments: 1024,
  /** One attachment's bytes. */
  attachmentBytes: 256 * MiB,
  /** All of a run's distinct attachments together. */
  totalAttachmentBytes: 256 * MiB,
  /**
   * The inputs with every placeholder replaced by its artifact reference (a reference is at most
   * a few hundred bytes): what an adapter receives, and what an invoke frame carries.
   */
  resolvedInputBytes: DEFAULT_MAX_INPUT_BYTES + 4096 * 512,
} as const;

/** Placeholders (CLI side, before anything is stored). */
export function checkPlaceholderCount(count: number): void {
  if (count > LIMITS.attachmentRefs) {
    throw new ProcctlError('ERR_INPUT_TOO_LARGE', `inputs/params hold ${count} attachment placeholders; the limit is ${LIMITS.attachmentRefs}`, { pointer: '/params', count, limit: LIMITS.attachmentRefs });
  }
}

/** Attachment files by name and size (CLI side, from stat, before any is read). */
export function checkAttachmentSizes(files: readonly { name: string; size: number }[]): void {
  if (files.length > LIMITS.attachments) {
    throw new ProcctlError('ERR_ATTACHMENT', `${files.length} attachments given; the limit is ${LIMITS.attachments}`, { count: files.length, limit: LIMITS.attachments });
  }
  let total = 0;
  for (const file of files) {
    if (file.size > LIMITS.attachmentBytes) {
      throw new ProcctlError('ERR_ATTACHMENT', `attachment ${file.name} is ${file.size} bytes; the limit is ${LIMITS.attachmentBytes} bytes per attachment`, { name: file.name, size_bytes: file.size, limit_bytes: LIMITS.attachmentBytes });
    }
    total += file.size;
  }
  checkTotal(total);
}

function checkTotal(total: number): void {
  if (total > LIMITS.totalAttachmentBytes) {
    throw new ProcctlError('ERR_ATTACHMENT', `attachments total ${total} bytes; the limit is ${LIMITS.totalAttachmentBytes} bytes per run`, { size_bytes: total, limit_bytes: LIMITS.totalAttachmentBytes });
  }
}

interface RefLike {
  cid: string;
  size_bytes: number;
}

/**
 * The adapter-level check, on inputs as every adapter receives them (artifact references in
 * place): the first thing an invocation does in-process and in the runtime, and what the
 * protocol client does before it sends anything. Same order, same errors, same bytes.
 */
export function checkInvocationLimits(inputsJson: unknown, refs: readonly RefLike[]): void {
  const size = Buffer.byteLength(JSON.stringify(inputsJson) ?? '');
  if (size > LIMITS.resolvedInputBytes) {
    throw new ProcctlError('ERR_INPUT_TOO_LARGE', `inputs are ${size} bytes with their artifact references; the limit is ${LIMITS.resolvedInputBytes} bytes`, { size_bytes: size, limit_bytes: LIMITS.resolvedInputBytes });
  }
  if (refs.length > LIMITS.attachmentRefs) {
    throw new ProcctlError('ERR_INPUT_TOO_LARGE', `inputs/params hold ${refs.length} artifact references; the limit is ${LIMITS.attachmentRefs}`, { pointer: '/params', count: refs.length, limit: LIMITS.attachmentRefs });
  }
  const sizes = new Map<string, number>();
  for (const ref of refs) sizes.set(ref.cid, Math.max(sizes.get(ref.cid) ?? 0, ref.size_bytes));
  if (sizes.size > LIMITS.attachments) {
    throw new ProcctlError('ERR_ATTACHMENT', `inputs/params refer to ${sizes.size} distinct attachments; the limit is ${LIMITS.attachments}`, { count: sizes.size, limit: LIMITS.attachments });
  }
  let total = 0;
  for (const [cid, bytes] of sizes) {
    if (bytes > LIMITS.attachmentBytes) {
      throw new ProcctlError('ERR_ATTACHMENT', `attachment ${cid} is ${bytes} bytes; the limit is ${LIMITS.attachmentBytes} bytes per attachment`, { cid, size_bytes: bytes, limit_bytes: LIMITS.attachmentBytes });
    }
    total += bytes;
  }
  checkTotal(total);
}
