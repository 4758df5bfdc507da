/**
 * A small content-keyed cache on disk for work that start-up would otherwise redo on every run:
 * parsed registry entries and compiled schema validators. Keys are content hashes, so an entry is
 * never stale — a changed input has a different key. Failures to read or write are ignored: the
 * cache only ever saves time.
 *
 * Location: PROCCTL_CACHE_DIR, else $XDG_CACHE_HOME/procctl, else ~/.cache/procctl.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['PROCCTL_CACHE_DIR'] ?? join(env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'procctl');
}

export function cacheRead(namespace: string, key: string): string | undefined {
  try {
    return readFileSync(join(cacheDir(), namespace, key), 'utf8');
  } catch {
    return undefined;
  }
}

export function cacheWrite(namespace: string, key: string, text: string): void {
  try {
    const dir = join(cacheDir(), namespace);
    mkdirSync(dir, { recursive: true });
    const temp = join(dir, `.${key}.${process.pid}.partial`);
    writeFileSync(temp, text);
    renameSync(temp, join(dir, key));
  } catch {
    // A read-only home or a full disk costs speed, never correctness.
  }
}
