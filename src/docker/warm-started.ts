/**
 * The warm path to a started container: the remembered handle (started-cache.ts), believed only
 * once its endpoint answers /healthz, now, with the pinned digest. Needs neither the Docker client
 * nor the engine, so a warm `localctl run` skips both; anything else is a miss, and the caller
 * asks the engine.
 */
import { runtimeHealth } from '../protocol/health.js';
import type { ContainerHandle } from './handle.js';
import { dropStartedEntry, readStartedEntry } from './started-cache.js';

/** A probe of a container that is up answers in well under a millisecond; a gone one is refused at once. */
const PROBE_TIMEOUT_MS = 1000;

export async function warmStarted(name: string, digest: string, env: NodeJS.ProcessEnv = process.env): Promise<ContainerHandle | undefined> {
  const entry = readStartedEntry(name, env);
  if (!entry) return undefined;
  if (entry.digest === digest) {
    try {
      const health = await runtimeHealth(entry.endpoint, PROBE_TIMEOUT_MS);
      if (health.ok && health.digest === digest) return entry;
    } catch {
      // gone, or not a runtime: the engine knows
    }
  }
  dropStartedEntry(name, env);
  return undefined;
}
