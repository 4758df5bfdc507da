/** The embedded default store: files under a directory (`.procctl/artifacts` unless configured). */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ProcctlError } from '../contracts/errors.js';
import { canonicalPath } from './paths.js';
import type { ListableStore } from './store.js';

export class FsArtifactStore implements ListableStore {
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

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const target = this.file(key);
    const temp = join(dirname(target), `.${randomBytes(6).toString('hex')}.partial`);
    try {
      await mkdir(dirname(target), { recursive: true });
      await writeFile(temp, bytes);
      await rename(temp, target);
    } catch (err) {
      await rm(temp, { force: true }).catch(() => undefined);
      throw storeError('write', key, this.location, err);
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
      if (!entry.isFile() || entry.name.endsWith('.partial')) continue;
      const key = relative(this.root, join(entry.parentPath, entry.name)).split(sep).join('/');
      if (key.startsWith(prefix)) keys.push(key);
    }
    keys.sort();
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

function storeError(op: string, key: string, location: string, err: unknown): ProcctlError {
  const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  return new ProcctlError('ERR_ARTIFACT_STORE', `cannot ${op} ${key} in ${location}: ${reason}`, { key, store: location, reason }, { cause: err });
}
