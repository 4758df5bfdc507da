/**
 * Attachments: `--attach name=path` files fill `{"$attach":"name"}` placeholders anywhere in the
 * params. The bytes are stored content-addressed and each placeholder becomes an artifact
 * reference `{"$artifact": key, "cid", "mime", "size_bytes"}`, which is what the inputs hash covers
 * and what every placement resolves back to bytes.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { contentId } from '../contracts/content-id.js';
import { ProcctlError } from '../contracts/errors.js';
import type { InputsV1 } from '../contracts/inputs.js';
import { checkAttachmentSizes, checkPlaceholderCount } from '../contracts/limits.js';
import { mimeFor } from './mime.js';
import { attachmentKey } from './paths.js';
import type { ArtifactStore } from './store.js';

export interface AttachSpec {
  name: string;
  file: string;
}

export interface ArtifactRef {
  $artifact: string;
  cid: string;
  mime: string;
  size_bytes: number;
}

const NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

export function parseAttachSpec(spec: string): AttachSpec {
  const eq = spec.indexOf('=');
  const name = eq === -1 ? '' : spec.slice(0, eq);
  const file = eq === -1 ? '' : spec.slice(eq + 1);
  if (!NAME_PATTERN.test(name) || file === '') {
    throw new ProcctlError('ERR_USAGE', `--attach ${JSON.stringify(spec)} is not NAME=PATH (NAME from [A-Za-z0-9_.-], then "=", then a file path)`, { attach: spec });
  }
  return { name, file };
}

export function isArtifactRef(value: unknown): value is ArtifactRef {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return typeof v['$artifact'] === 'string' && typeof v['cid'] === 'string' && typeof v['mime'] === 'string' && typeof v['size_bytes'] === 'number';
}

/** Every artifact reference in a JSON value, in document order. */
export function collectArtifactRefs(root: unknown): ArtifactRef[] {
  // An explicit stack, in document order: no input, however deep, can overflow the call stack here.
  const found: ArtifactRef[] = [];
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const value = pending.pop();
    if (isArtifactRef(value)) found.push(value);
    else if (Array.isArray(value)) for (let i = value.length - 1; i >= 0; i--) pending.push(value[i]);
    else if (value !== null && typeof value === 'object') pending.push(...Object.values(value).reverse());
  }
  return found;
}

/** The attachment's size, from stat: every file is checked, and the limits with it, before any is read. */
async function attachmentSize(spec: AttachSpec): Promise<number> {
  const fail = (reason: string) => new ProcctlError('ERR_ATTACHMENT', `attachment ${spec.name} (${spec.file}) ${reason}`, { name: spec.name });
  let info;
  try {
    info = await stat(spec.file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw fail(code === 'ENOENT' ? 'does not exist' : `cannot be read: ${code ?? (err as Error).message}`);
  }
  if (info.isDirectory()) throw fail('is a directory; attach a file');
  if (!info.isFile()) throw fail('is not a regular file');
  return info.size;
}

async function storeAttachment(spec: AttachSpec, store: ArtifactStore): Promise<ArtifactRef> {
  const bytes = await readFile(spec.file);
  const cid = contentId(bytes);
  const key = attachmentKey(cid);
  const mime = mimeFor(basename(spec.file));
  if (!(await store.has(key))) await store.put(key, bytes, mime);
  return { $artifact: key, cid, mime, size_bytes: bytes.byteLength };
}

/**
 * Replaces placeholders with artifact references. Names must match both ways: a placeholder with
 * no `--attach`, or an `--attach` that no placeholder uses, is an error rather than a silent gap.
 */
export async function applyAttachments(inputs: InputsV1, specs: readonly AttachSpec[], store: ArtifactStore): Promise<InputsV1> {
  const byName = new Map<string, AttachSpec>();
  for (const spec of specs) {
    if (byName.has(spec.name)) throw new ProcctlError('ERR_USAGE', `--attach ${spec.name}=… is given twice`, { name: spec.name });
    byName.set(spec.name, spec);
  }
  const used = new Map<string, string>(); // name -> first pointer
  const placeholders = findPlaceholders(inputs.params, '/params', used);
  for (const [name, pointer] of used) {
    if (!byName.has(name)) {
      const given = [...byName.keys()];
      throw new ProcctlError('ERR_ATTACHMENT', `inputs${pointer} refers to attachment ${JSON.stringify(name)}, but no --attach ${name}=PATH was given${given.length ? ` (given: ${given.join(', ')})` : ''}`, { name, pointer });
    }
  }
  for (const name of byName.keys()) {
    if (!used.has(name)) throw new ProcctlError('ERR_ATTACHMENT', `--attach ${name}=… is not used: no {"$attach":"${name}"} placeholder in the inputs`, { name });
  }
  checkPlaceholderCount(placeholders);
  if (placeholders === 0) return inputs;
  const sizes: { name: string; size: number }[] = [];
  for (const [name, spec] of byName) sizes.push({ name, size: await attachmentSize(spec) });
  checkAttachmentSizes(sizes);
  const refs = new Map<string, ArtifactRef>();
  for (const [name, spec] of byName) refs.set(name, await storeAttachment(spec, store));
  return { ...inputs, params: replacePlaceholders(inputs.params, refs) as Record<string, unknown> };
}

function placeholderName(value: unknown, pointer: string): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, '$attach')) return undefined;
  const keys = Object.keys(value);
  const name = (value as Record<string, unknown>)['$attach'];
  if (keys.length !== 1 || typeof name !== 'string') {
    throw new ProcctlError('ERR_INPUT_INVALID', `inputs${pointer} is not a placeholder of the form {"$attach":"NAME"}`, { pointer });
  }
  return name;
}

function findPlaceholders(value: unknown, pointer: string, used: Map<string, string>): number {
  const name = placeholderName(value, pointer);
  if (name !== undefined) {
    if (!used.has(name)) used.set(name, pointer);
    return 1;
  }
  let count = 0;
  if (Array.isArray(value)) value.forEach((item, i) => (count += findPlaceholders(item, `${pointer}/${i}`, used)));
  else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) count += findPlaceholders(item, `${pointer}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`, used);
  }
  return count;
}

function replacePlaceholders(value: unknown, refs: Map<string, ArtifactRef>): unknown {
  if (Array.isArray(value)) return value.map((item) => replacePlaceholders(item, refs));
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  const name = record['$attach'];
  if (typeof name === 'string' && Object.keys(record).length === 1) return { ...(refs.get(name) as ArtifactRef) };
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, replacePlaceholders(v, refs)]));
}

/** Proves bytes are the ones a reference names; every placement checks attachments this way. */
export function verifyArtifactBytes<B extends Uint8Array>(ref: ArtifactRef, bytes: B): B {
  if (contentId(bytes) !== ref.cid) {
    throw new ProcctlError('ERR_ATTACHMENT', `artifact ${ref.$artifact} does not match its content id ${ref.cid}`, { key: ref.$artifact, cid: ref.cid });
  }
  return bytes;
}

/** Reads an artifact back and proves it is the bytes the reference names. */
export async function readArtifact(store: ArtifactStore, ref: ArtifactRef): Promise<Buffer> {
  return verifyArtifactBytes(ref, await store.get(ref.$artifact));
}
