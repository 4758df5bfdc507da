/**
 * Which declared secrets the caller's environment holds — by name. This is the only place that
 * looks at the environment for secrets, and it returns names, never values.
 */
import type { RegistryEntry } from '../registry/entry.js';

export function secretsPresentIn(entry: RegistryEntry, env: NodeJS.ProcessEnv): string[] {
  const declared = [...entry.secrets.required, ...(entry.secrets.optional ?? [])];
  return declared.filter((name) => typeof env[name] === 'string' && env[name] !== '').sort();
}
