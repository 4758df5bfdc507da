/**
 * (Here, under executor/, because the executor image ships only dist/src/executor; the
 * filesystem artifact store uses the same helpers.)
 *
 * Filesystem failures told truthfully: which path, what the system said, and whether trying again
 * could help. Also the one bounded `makeDirectory`, because Node's own recursive mkdir spins
 * forever on filesystems that refuse new entries while reporting them missing (`/proc/self/x`
 * answers ENOENT under an existing parent, and `mkdir -p` then retries without end).
 */
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/** Codes a later attempt can overcome (resources that free up, interrupted calls); all others are permanent. */
const TRANSIENT = new Set(['EAGAIN', 'EBUSY', 'EINTR', 'EMFILE', 'ENFILE', 'ENOSPC', 'EDQUOT', 'ETIMEDOUT', 'EIO']);

const MEANING: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EISDIR: 'is a directory',
  EEXIST: 'already exists',
  ENAMETOOLONG: 'name too long',
  ELOOP: 'too many symbolic links',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  EBUSY: 'resource busy',
  EIO: 'input/output error',
};

export interface FsFailure {
  /** The system code (`EROFS`), or the message when there is none. */
  code: string;
  /** `EROFS (read-only file system)`: for messages and `details.reason`. */
  reason: string;
  retryable: boolean;
}

export function describeFsError(err: unknown): FsFailure {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string') return { code: 'EUNKNOWN', reason: (err as Error | undefined)?.message ?? String(err), retryable: false };
  const meaning = MEANING[code];
  return { code, reason: meaning ? `${code} (${meaning})` : code, retryable: TRANSIENT.has(code) };
}

/** A directory failure that names the path where it happened, not the one that was asked for. */
export class DirectoryError extends Error {
  readonly code: string;
  readonly path: string;
  constructor(code: string, path: string, message: string) {
    super(message);
    this.code = code;
    this.path = path;
  }
}

/**
 * `mkdir -p` with a bound: at most one mkdir per missing segment, each error reported once. A file
 * in the way is ENOTDIR naming that file (Node says `EEXIST … mkdir`); a parent that exists but
 * refuses children (procfs, sysfs) is the parent's error, not a loop.
 */
export async function makeDirectory(dir: string): Promise<void> {
  const target = resolve(dir);
  const missing: string[] = [];
  let probe = target;
  for (;;) {
    const info = await stat(probe).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      if (err.code === 'ENOTDIR') return 'notdir' as const;
      throw new DirectoryError(err.code ?? 'EUNKNOWN', probe, `cannot inspect ${probe}: ${describeFsError(err).reason}`);
    });
    if (info === 'notdir' || (info && !info.isDirectory())) {
      if (info === 'notdir') {
        // Some ancestor is a file: climb on to name it.
        missing.unshift(probe);
        probe = dirname(probe);
        continue;
      }
      throw new DirectoryError('ENOTDIR', probe, `${probe} is a file, not a directory`);
    }
    if (info) break;
    missing.unshift(probe);
    const parent = dirname(probe);
    if (parent === probe) break;
    probe = parent;
  }
  for (const path of missing) {
    try {
      await mkdir(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
      if (code === 'EEXIST') {
        // A racing creator made it (fine) or something that is not a directory is there.
        const info = await stat(path).catch(() => undefined);
        if (info?.isDirectory()) continue;
        throw new DirectoryError('ENOTDIR', path, `${path} is a file, not a directory`);
      }
      throw new DirectoryError(code, dirname(path), `cannot create ${path}: ${describeFsError(err).reason}`);
    }
  }
}
