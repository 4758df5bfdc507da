/**
 * An artifact store held in memory: for embedding procctl in a process that keeps results itself,
 * for tests, and for benchmarks that measure the protocol rather than the disk. Keys are checked
 * exactly as the filesystem store checks them, so both accept the same keys.
 */
import { ProcctlError } from '../contracts/errors.js';
import { canonicalPath } from './paths.js';
import type { ListableStore } from './store.js';

export class MemoryArtifactStore implements ListableStore {
  readonly location = 'memory:';
  private readonly objects = new Map<string, { bytes: Buffer; mime: string }>();

  async put(key: string, bytes: Uint8Array, mime: string): Promise<void> {
    // A copy: the caller may reuse its buffer, and a stored object must never change.
    this.objects.set(canonicalPath(key), { bytes: Buffer.from(bytes), mime });
  }

  async get(key: string): Promise<Buffer> {
    const object = this.objects.get(canonicalPath(key));
    if (!object) throw new ProcctlError('ERR_ARTIFACT_STORE', `cannot read ${key} in ${this.location}: ENOENT`, { key, store: this.location, reason: 'ENOENT' });
    return Buffer.from(object.bytes);
  }

  async has(key: string): Promise<boolean> {
    return this.objects.has(canonicalPath(key));
  }

  async list(prefix: string, limit = Infinity): Promise<string[]> {
    return this.keys().filter((key) => key.startsWith(prefix)).slice(0, limit);
  }

  async remove(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.objects.delete(canonicalPath(key));
  }

  /** Every key, sorted: what a test compares. */
  keys(): string[] {
    return [...this.objects.keys()].sort();
  }

  mimeOf(key: string): string | undefined {
    return this.objects.get(canonicalPath(key))?.mime;
  }
}
