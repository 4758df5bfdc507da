/** The embedded default store: files under a directory (`.procctl/artifacts` unless configured). */
import { createHash, randomBytes } from 'node:crypto';
import { link, readdir, readFile, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compareCodeUnits } from '../contracts/envelope.js';
import { ProcctlError } from '../contracts/errors.js';
import { DirectoryError, describeFsError, makeDirectory } from '../executor/fs-errors.js';
import { canonicalPath } from './paths.js';
import type { ArtifactStore } from './store.js';

/** A file's version: the hash of its bytes (every conditional object here holds a unique claim id). */
function versionOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export class FsArtifactStore implements ArtifactStore {
  readonly root: string;
  readonly location: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.location = pathToFileURL(this.root).href;
  }

  private file(key: string): string {
    // Keys are canonical already; re-checking keeps a bad key from ever touching the disk.
    return join(this.root, canonicalPath(key));
  }

  private sibling(target: string, kind: string): string {
    return join(dirname(target), `.${randomBytes(6).toString('hex')}.${kind}`);
  }

  /** Writes the bytes to a hidden temporary file beside `target`, its directory made first. */
  private async staged(target: string, bytes: Uint8Array): Promise<string> {
    await makeDirectory(dirname(target));
    const temp = this.sibling(target, 'partial');
    await writeFile(temp, bytes, { flag: 'wx' });
    return temp;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const target = this.file(key);
    let temp: string | undefined;
    try {
      temp = await this.staged(target, bytes);
      await rename(temp, target);
    } catch (err) {
      if (temp) await rm(temp, { force: true }).catch(() => undefined);
      throw storeError('write', key, this.location, err);
    }
  }

  /** A hard link is the filesystem's exclusive create of a complete file: it fails with EEXIST. */
  async create(key: string, bytes: Uint8Array): Promise<string | undefined> {
    const target = this.file(key);
    let temp: string | undefined;
    try {
      temp = await this.staged(target, bytes);
      return (await linkIfAbsent(temp, target)) ? versionOf(bytes) : undefined;
    } catch (err) {
      throw storeError('create', key, this.location, err);
    } finally {
      if (temp) await rm(temp, { force: true }).catch(() => undefined);
    }
  }

  async read(key: string): Promise<{ bytes: Buffer; version: string } | undefined> {
    try {
      const bytes = await readFile(this.file(key));
      return { bytes, version: versionOf(bytes) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw storeError('read', key, this.location, err);
    }
  }

  /**
   * Compare-and-swap from rename and link: moving the current file aside is atomic, so of several
   * racing callers exactly one holds it; that one checks the version and links the new bytes in
   * (exclusive again) or puts the old file back.
   */
  async replaceIf(key: string, bytes: Uint8Array, _mime: string, version: string): Promise<string | undefined> {
    const target = this.file(key);
    const aside = this.sibling(target, 'replaced');
    let temp: string | undefined;
    try {
      temp = await this.staged(target, bytes);
      try {
        await rename(target, aside);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
      if (versionOf(await readFile(aside)) !== version) {
        await linkIfAbsent(aside, target);
        return undefined;
      }
      return (await linkIfAbsent(temp, target)) ? versionOf(bytes) : undefined;
    } catch (err) {
      throw storeError('replace', key, this.location, err);
    } finally {
      await rm(aside, { force: true }).catch(() => undefined);
      if (temp) await rm(temp, { force: true }).catch(() => undefined);
    }
  }

  async get(key: string): Promise<Buffer> {
    try {
      return await readFile(this.file(key));
    } catch (err) {
      throw storeError('read', key, this.location, err);
    }
  }

  async has(key: string): Promise<boolean> {
    try {
      return (await stat(this.file(key))).isFile();
    } catch {
      return false;
    }
  }

  async list(prefix: string, limit = Infinity): Promise<string[]> {
    // The directory that holds every key with this prefix, walked once; names only, no stat.
    const slash = prefix.lastIndexOf('/');
    const dirKey = slash === -1 ? '' : prefix.slice(0, slash);
    const dir = dirKey === '' ? this.root : this.file(dirKey);
    let entries;
    try {
      entries = await readdir(dir, { recursive: true, withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
      throw storeError('list', prefix, this.location, err);
    }
    const keys: string[] = [];
    for (const entry of entries) {
      // Hidden names are this store's own temporary files, never keys.
      if (!entry.isFile() || /^\.[0-9a-f]{12}\.(partial|replaced)$/.test(entry.name)) continue;
      const key = relative(this.root, join(entry.parentPath, entry.name)).split(sep).join('/');
      if (key.startsWith(prefix)) keys.push(key);
    }
    keys.sort(compareCodeUnits);
    return keys.length > limit ? keys.slice(0, limit) : keys;
  }

  async remove(keys: readonly string[]): Promise<void> {
    const dirs = new Set<string>();
    for (const key of keys) {
      const file = this.file(key);
      try {
        await unlink(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw storeError('remove', key, this.location, err);
      }
      dirs.add(dirname(file));
    }
    // Empty directories left behind go too (deepest first), up to the store's root.
    const byDepth = [...dirs].sort((a, b) => b.length - a.length);
    for (let dir of byDepth) {
      while (dir.startsWith(this.root + sep)) {
        try {
          await rmdir(dir);
        } catch {
          break; // not empty (or gone): its parents are not empty either
        }
        dir = dirname(dir);
      }
    }
  }
}

async function linkIfAbsent(from: string, to: string): Promise<boolean> {
  try {
    await link(from, to);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** The system's own code and what it means, retryable only where another attempt can succeed. */
function storeError(op: string, key: string, location: string, err: unknown): ProcctlError {
  if (err instanceof ProcctlError) return err;
  const { code, reason, retryable } = describeFsError(err);
  // A directory failure names the directory where it happened, which says more than the key.
  const why = err instanceof DirectoryError ? err.message : reason;
  return new ProcctlError('ERR_ARTIFACT_STORE', `cannot ${op} ${key} in ${location}: ${why}`, { key, store: location, reason: code }, { retryable, cause: err });
}
