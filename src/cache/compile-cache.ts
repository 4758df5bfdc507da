/**
 * Node's on-disk module compile cache (`module.enableCompileCache`, Node >= 22.1), kept under
 * procctl's cache directory: later starts of a bin reuse V8's compiled code for every module
 * loaded after this one instead of compiling it again. Node keys the entries by its own version
 * and each file's content, so a changed file or another Node never reads a stale entry; on Node 20
 * the API does not exist and this does nothing. `NODE_COMPILE_CACHE` (a folder of the user's
 * choosing) and `NODE_DISABLE_COMPILE_CACHE` are Node's own switches and win. Failing to create the
 * folder (read-only home, a container's read-only root) costs speed only: Node then runs uncached.
 *
 * Import it first in a bin: only modules loaded after it are cached, so a bin keeps its heavy
 * modules behind dynamic imports.
 */
import module from 'node:module';
import { join } from 'node:path';
import { cacheDir } from './disk-cache.js';

type EnableCompileCache = (directory?: string) => unknown;

const enable = (module as { enableCompileCache?: EnableCompileCache }).enableCompileCache;
if (enable && process.env['NODE_COMPILE_CACHE'] === undefined && process.env['NODE_DISABLE_COMPILE_CACHE'] === undefined) {
  try {
    enable(join(cacheDir(), 'v8-compile'));
  } catch {
    // Never worth failing a command for.
  }
}
