/** Content ids have the same form as OCI digests: `sha256:<64 lower-case hex>`. */
import { createHash } from 'node:crypto';
import { canonicalBytes } from './canonical-json.js';

export const CONTENT_ID_PATTERN = /^sha256:[0-9a-f]{64}$/;

export function contentId(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** The content id of a JSON value's canonical form. */
export function canonicalContentId(value: unknown): string {
  return contentId(canonicalBytes(value));
}

export function contentIdHex(cid: string): string {
  return cid.slice('sha256:'.length);
}
