/**
 * The artifact store interface. Keys are canonical relative paths (see paths.ts). Writes are
 * atomic: a reader sees the whole object or nothing.
 */
export interface ArtifactStore {
  /** Where the store lives, for messages and receipts: `file:///…` or `s3://bucket/prefix`. */
  readonly location: string;
  put(key: string, bytes: Uint8Array, mime: string): Promise<void>;
  get(key: string): Promise<Buffer>;
  has(key: string): Promise<boolean>;
}

/**
 * A store that can also enumerate and remove keys: what `procctl runs` (listing, `rm`, `gc`)
 * needs on top of a run's own reads and writes. Kept apart so a placement that only writes
 * outputs never has to implement it.
 */
export interface ListableStore extends ArtifactStore {
  /** Keys starting with `prefix` (a key prefix, not only a directory), sorted; at most `limit`. */
  list(prefix: string, limit?: number): Promise<string[]>;
  /** Removes the keys; a key already absent is not an error. */
  remove(keys: readonly string[]): Promise<void>;
}

export function isListableStore(store: ArtifactStore): store is ListableStore {
  const s = store as Partial<ListableStore>;
  return typeof s.list === 'function' && typeof s.remove === 'function';
}
