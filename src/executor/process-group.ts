// Signalling and watching the child's process group. The child is spawned as a group leader
// (detached), so kill(-pgid) reaches every process it started unless one of them moved to a
// new session on purpose.
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

/** Send `signal` to the whole group; false when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/**
 * Whether any live (non-zombie) process remains in the group. kill(-pgid, 0) alone would count
 * zombies: when the executor is PID 1 in a container, orphaned grandchildren are re-parented to
 * it and Node never reaps them, so on Linux we look at /proc to skip them.
 */
export function groupAlive(pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false;
  if (process.platform !== 'linux') return true;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return true;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // Format: pid (comm) state ppid pgrp ...; comm may contain spaces and parens, so split after
    // the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') return true;
  }
  return false;
}


/**
 * Stop the group: SIGTERM, then SIGKILL to whatever is still alive after `graceMs`. Resolves once
 * the group is gone (or, after SIGKILL, after one more short wait: a process in uninterruptible
 * sleep cannot be waited for forever).
 */
export async function stopGroup(pgid: number, graceMs: number, pollMs = 25): Promise<'term' | 'kill' | 'gone'> {
  if (!signalGroup(pgid, 'SIGTERM')) return 'gone';
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await delay(pollMs);
    if (!groupAlive(pgid)) return 'term';
  }
  signalGroup(pgid, 'SIGKILL');
  for (let i = 0; i < 40 && groupAlive(pgid); i++) await delay(pollMs);
  return 'kill';
}
