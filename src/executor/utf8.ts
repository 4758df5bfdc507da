// UTF-8 helpers for cutting captured output without splitting a character.

/**
 * The largest length ≤ buf.length at which `buf` does not end inside a multi-byte UTF-8
 * sequence. Only the last (at most 3) bytes are inspected: a sequence is at most 4 bytes long.
 * Bytes that are not valid UTF-8 at all are left alone (the decoder replaces them later).
 */
export function utf8SafeLength(buf: Uint8Array): number {
  const len = buf.length;
  // Walk back over continuation bytes (10xxxxxx) to the lead byte of the last sequence.
  let i = len - 1;
  while (i >= 0 && i >= len - 4 && ((buf[i] as number) & 0xc0) === 0x80) i--;
  if (i < 0 || i < len - 4) return len; // no lead byte nearby: not a UTF-8 sequence we can judge
  const lead = buf[i] as number;
  let need: number;
  if (lead < 0x80) need = 1;
  else if ((lead & 0xe0) === 0xc0) need = 2;
  else if ((lead & 0xf0) === 0xe0) need = 3;
  else if ((lead & 0xf8) === 0xf0) need = 4;
  else return len; // stray continuation or invalid lead byte: nothing to protect
  return len - i >= need ? len : i;
}

const strictDecoder = new TextDecoder('utf-8', { fatal: true });

/** Decode as UTF-8; `valid` is false when replacement characters had to be substituted. */
export function decodeUtf8(buf: Uint8Array): { text: string; valid: boolean } {
  try {
    return { text: strictDecoder.decode(buf), valid: true };
  } catch {
    return { text: Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('utf8'), valid: false };
  }
}
