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
