/**
 * `procctl registry validate` as a library call: every entry's YAML and schema, and then its
 * handler, imported as a run would import it and checked to be a `defineProcessor` default export.
 * A folder that only reads well is not valid: its first run would fail.
 */
import { toProcctlError, type ProcctlError } from '../contracts/errors.js';
import { loadProcessor } from '../execution/load-processor.js';
import { parseRef } from '../registry/ref.js';
import type { Registry } from '../registry/registry.js';

export interface RegistryValidation {
  /** Entries looked at (good and bad). */
  checked: number;
  /** One typed problem per bad entry, naming its file (or handler) and field. */
  problems: ProcctlError[];
}

export async function validateRegistry(registry: Registry): Promise<RegistryValidation> {
  const { entries, problems } = registry.scan();
  const checked = entries.length + problems.length;
  for (const entry of entries) {
    try {
      await loadProcessor(parseRef(entry.ref).slug, registry.dir);
    } catch (err) {
      problems.push(toProcctlError(err));
    }
  }
  return { checked, problems };
}
