/**
 * Finds a processor's handler module: `<registry>/<slug>/handler.js` when the registry folder ships
 * one (user processors), else the built-in compiled one beside this package's code.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ProcctlError } from '../contracts/errors.js';
import { isProcessorDefinition, type ProcessorDefinition } from '../sdk/index.js';
import { withoutFolders } from './host-paths.js';
import { resolveProcctlForUserModules } from './package-resolution.js';

const BUILTIN_HANDLERS = fileURLToPath(new URL('../../processors/', import.meta.url));
const cache = new Map<string, Promise<ProcessorDefinition>>();

// A long-lived runtime asks for the same handler on every invoke (and its pool keys workers by
// the file); a found file is remembered so a warm invoke costs no filesystem lookups. A missing
// one is looked up again next time.
const found = new Map<string, string>();

export function handlerFile(slug: string, registryDir?: string): string | undefined {
  const lookup = `${registryDir ?? ''}\0${slug}`;
  const known = found.get(lookup);
  if (known) return known;
  const candidates = [registryDir && join(registryDir, slug, 'handler.js'), join(BUILTIN_HANDLERS, slug, 'handler.js')];
  const file = candidates.find((candidate): candidate is string => Boolean(candidate) && existsSync(candidate as string));
  if (file) found.set(lookup, file);
  return file;
}

export function loadProcessor(slug: string, registryDir?: string): Promise<ProcessorDefinition> {
  const file = handlerFile(slug, registryDir);
  if (!file) {
    // No folder path in the message: it lands in the envelope, whose bytes must not depend on
    // where a placement keeps its registry.
    return Promise.reject(new ProcctlError('ERR_PROCESSOR_NOT_FOUND', `processor ${slug} has a registry entry but no ${slug}/handler.js beside it and is not built in`, { slug }));
  }
  let loading = cache.get(file);
  if (!loading) {
    if (!file.startsWith(BUILTIN_HANDLERS)) resolveProcctlForUserModules();
    loading = importHandler(file, slug).then((mod: { default?: unknown }) => {
      if (!isProcessorDefinition(mod.default)) {
        // The slug-relative name, not the host path: envelopes must not depend on the install location.
        throw new ProcctlError('ERR_REGISTRY_INVALID', `${slug}/handler.js: the default export is not a processor definition (defineProcessor({ mock, real }))`, { file: `${slug}/handler.js` });
      }
      return mod.default;
    });
    cache.set(file, loading);
  }
  return loading;
}

/**
 * Imports a handler module. One that cannot be imported (a syntax error, a missing package, a
 * throw at top level) is the registry entry's problem, named by its `<slug>/handler.js` and the
 * `handler` field, never procctl's ERR_INTERNAL. Host paths are cut from Node's message: it lands
 * in envelopes, whose bytes must not depend on where the registry is.
 */
async function importHandler(file: string, slug: string): Promise<{ default?: unknown }> {
  try {
    return (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (err) {
    const where = `${slug}/handler.js`;
    const reason = withoutFolders(err instanceof Error ? err.message : String(err), [file.slice(0, file.length - where.length)]);
    throw new ProcctlError('ERR_REGISTRY_INVALID', `${where} cannot be imported: ${reason}`, { slug, field: 'handler' });
  }
}
