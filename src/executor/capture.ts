// Bounded capture of one output stream: keeps the first `limit` bytes, counts the rest and throws
// them away, so memory stays flat however much the child prints and the pipe is always drained
// (a child is never blocked on a full pipe because we stopped reading).
import { decodeUtf8, utf8SafeLength } from './utf8.js';

export interface CapturedText {
  text: string;
  /** bytes the child wrote to this stream in total. */
  totalBytes: number;
  /** bytes kept in `text` (after the cut on a character boundary). */
  capturedBytes: number;
  /** total - captured. */
  droppedBytes: number;
  /** false when the kept bytes were not valid UTF-8 and were decoded with replacements. */
  validUtf8: boolean;
}

export class BoundedCapture {
  private readonly buffer: Buffer;
  private kept = 0;
  private total = 0;

  constructor(readonly limit: number) {
    // Allocated lazily in chunks would save memory for quiet children, but limit ≤ 16 MiB and one
    // preallocation keeps the hot path a single copy.
    this.buffer = Buffer.allocUnsafe(limit);
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    const room = this.limit - this.kept;
    if (room <= 0) return;
    const n = Math.min(room, chunk.length);
    chunk.copy(this.buffer, this.kept, 0, n);
    this.kept += n;
  }

  get totalBytes(): number {
    return this.total;
  }

  finish(): CapturedText {
    let kept = this.buffer.subarray(0, this.kept);
    // Only cut when we truncated: a complete stream that ends mid-character is the child's output.
    if (this.total > this.kept) kept = kept.subarray(0, utf8SafeLength(kept));
    const { text, valid } = decodeUtf8(kept);
    return {
      text,
      totalBytes: this.total,
      capturedBytes: kept.length,
      droppedBytes: this.total - kept.length,
      validUtf8: valid,
    };
  }
}
