/** The embedded default store: files under a directory (`.procctl/artifacts` unless configured). */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ProcctlError } from '../contracts/errors.js';
import { canonicalPath } from './paths.js';
import type { ArtifactStore } from './store.js';

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
}

function storeError(op: string, key: string, location: string, err: unknown): ProcctlError {
  const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  return new ProcctlError('ERR_ARTIFACT_STORE', `cannot ${op} ${key} in ${location}: ${reason}`, { key, store: location, reason }, { cause: err });
}
