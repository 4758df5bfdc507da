/**
 * Which declared secrets the caller's environment holds — by name — and whether real mode has all
 * it requires. This is the only place that looks at the environment for secrets, and it deals in
 * names, never values.
 */
import { ProcctlError } from '../contracts/errors.js';
import type { RegistryEntry } from '../registry/entry.js';
import type { RegistrySnapshot } from '../registry/registry.js';

export function secretsPresentIn(entry: RegistryEntry, env: NodeJS.ProcessEnv): string[] {
  const declared = [...entry.secrets.required, ...(entry.secrets.optional ?? [])];
  return declared.filter((name) => typeof env[name] === 'string' && env[name] !== '').sort();
}

/** Real mode needs every required secret present; the error lists the missing names, never values. */
export function requireSecrets(snapshot: RegistrySnapshot, secretsPresent: readonly string[]): void {
  const missing = snapshot.entry.secrets.required.filter((name) => !secretsPresent.includes(name));
  if (missing.length > 0) {
    throw new ProcctlError('ERR_MISSING_SECRET', `${snapshot.ref} in real mode needs secret(s) ${missing.join(', ')}; set them in the environment (values are never logged)`, { missing });
  }
}
