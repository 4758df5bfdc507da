/**
 * Where a started container answers, remembered between CLI calls, so a warm `localctl run` need
 * not load the Docker client and ask the engine every time. The engine's labels stay the truth:
 * an entry is only a hint, used after its endpoint answered /healthz with the pinned digest, and
 * the run itself is refused by any other container at that address (its bearer token differs).
 * Any doubt sends the caller back to the engine, which rewrites the entry.
 *
 * An entry holds the container's bearer token, so it is readable by this user alone: the folder
 * is made 0700 and each file 0600 (written whole, then renamed), and an entry is believed only if
 * it is a regular file owned by this user that nobody else can read or write, in a folder nobody
 * else can write. One engine's entries never answer for another's: the key is the engine's
 * address (DOCKER_HOST) together with the container's name. A second shell of the same user shares
 * the entries; the health check and the token keep it from trusting one that went stale.
 *
 * Only mock containers are remembered. Their endpoint is an address on procctl's internal Docker
 * network, which only someone with the engine can put a listener on. A real container publishes a
 * port on 127.0.0.1: once it stops, any local user may bind that port, answer /healthz with the
 * (public) pinned digest and be sent the token and the run's inputs. Real runs ask the engine.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync, constants } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from '../cache/disk-cache.js';
import type { ContainerHandle } from './handle.js';

const FIELDS: readonly (keyof ContainerHandle)[] = ['id', 'name', 'ref', 'mode', 'digest', 'scope', 'endpoint', 'token'] as const;

function folder(env: NodeJS.ProcessEnv): string {
  return join(cacheDir(env), 'started');
}

function entryPath(name: string, env: NodeJS.ProcessEnv): string {
  const engineAddress = env['DOCKER_HOST'] ?? 'unix:///var/run/docker.sock';
  return join(folder(env), createHash('sha256').update(`${engineAddress}\0${name}`).digest('hex').slice(0, 32));
}

/** Owned by this user, and no one else may write it (or, for a file, read it). */
function privateToUs(stats: { uid: number; mode: number }, othersMayRead: boolean): boolean {
  const uid = process.getuid?.();
  if (uid !== undefined && stats.uid !== uid) return false;
  return (stats.mode & (othersMayRead ? 0o022 : 0o077)) === 0;
}

/** The remembered handle of the started container `name`, if there is a trustworthy one. */
export function readStartedEntry(name: string, env: NodeJS.ProcessEnv = process.env): ContainerHandle | undefined {
  let fd: number | undefined;
  try {
    if (!privateToUs(statSync(folder(env)), true)) return undefined;
    fd = openSync(entryPath(name, env), constants.O_RDONLY | constants.O_NOFOLLOW);
    const stats = fstatSync(fd);
    if (!stats.isFile() || !privateToUs(stats, false)) return undefined;
    const entry = JSON.parse(readFileSync(fd, 'utf8')) as Record<string, unknown>;
    if (!FIELDS.every((f) => typeof entry[f] === 'string' && entry[f] !== '') || entry['name'] !== name || entry['mode'] !== 'mock') return undefined;
    return Object.fromEntries(FIELDS.map((f) => [f, entry[f]])) as unknown as ContainerHandle;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Remembers a started container's handle; failures (read-only home, full disk) only cost speed. */
export function writeStartedEntry(handle: ContainerHandle, env: NodeJS.ProcessEnv = process.env): void {
  if (handle.scope !== 'started' || handle.mode !== 'mock' || !handle.endpoint || !handle.token) return;
  const path = entryPath(handle.name, env);
  const temp = `${path}.${process.pid}.partial`;
  try {
    mkdirSync(folder(env), { recursive: true, mode: 0o700 });
    if (!privateToUs(statSync(folder(env)), true)) return;
    writeFileSync(temp, JSON.stringify(Object.fromEntries(FIELDS.map((f) => [f, handle[f]]))), { mode: 0o600, flag: 'wx' });
    renameSync(temp, path);
  } catch {
    try {
      unlinkSync(temp);
    } catch {
      // nothing was written
    }
  }
}

/** Forgets the started container `name` (stopped, replaced, or its entry did not hold). */
export function dropStartedEntry(name: string, env: NodeJS.ProcessEnv = process.env): void {
  try {
    unlinkSync(entryPath(name, env));
  } catch {
    // not there
  }
}
