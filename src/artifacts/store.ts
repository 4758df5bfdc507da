/**
 * The artifact store interface. Keys are canonical relative paths (see paths.ts). Writes are
 * atomic: a reader sees the whole object or nothing.
 *
 * The conditional operations (`create`, `replaceIf`) are what make an execution id an idempotency
 * key (execution-record.ts): each store implements them with its own atomic primitive — a hard
 * link on a filesystem, `If-None-Match: *` / `If-Match: <etag>` on S3 — never a lock file.
 */
export interface ArtifactStore {
  /** Where the store lives, for messages and receipts: `file:///…` or `s3://bucket/prefix`. */
  readonly location: string;
  put(key: string, bytes: Uint8Array, mime: string): Promise<void>;
  get(key: string): Promise<Buffer>;
  has(key: string): Promise<boolean>;
  /** Creates the key only if it is absent; its version, or undefined when the key already existed. */
  create(key: string, bytes: Uint8Array, mime: string): Promise<string | undefined>;
  /** The bytes and an opaque version tag, or undefined when the key is absent. */
  read(key: string): Promise<{ bytes: Buffer; version: string } | undefined>;
  /** Replaces the key only while it is still at `version`; the new version, or undefined if it changed or vanished. */
  replaceIf(key: string, bytes: Uint8Array, mime: string, version: string): Promise<string | undefined>;
  /** Keys starting with `prefix` (a key prefix, not only a directory), sorted by code unit; at most `limit`. */
  list(prefix: string, limit?: number): Promise<string[]>;
  /** Removes the keys; a key already absent is not an error. */
  remove(keys: readonly string[]): Promise<void>;
}
