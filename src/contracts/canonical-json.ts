/**
 * RFC 8785 (JCS) canonical JSON. Every envelope, index and hash input goes through here, so the
 * same value always gives the same bytes whatever produced it.
 */
import canonicalize from 'canonicalize';

export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value has no JSON representation');
  return text;
}

export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalJson(value), 'utf8');
}
