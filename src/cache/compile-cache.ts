/**
 * Node's on-disk module compile cache (`module.enableCompileCache`, Node >= 22.1), kept under
 * procctl's cache directory: later starts of a bin reuse V8's compiled code for every module
 * loaded after this one instead of compiling it again. Node keys the entries by its own version
 * and each file's content, so a changed file or another Node never reads a stale entry; on Node 20
 * the API does not exist and this does nothing. `NODE_COMPILE_CACHE` (a folder of the user's
 * choosing) and `NODE_DISABLE_COMPILE_CACHE` are Node's own switches and win. Failing to create the
 * folder (read-only home, a container's read-only root) costs speed only: Node then runs uncached.
 *
 * Import it first and alone in a bin (or a worker's entry: a worker thread does not share its
 * parent's cache), and load the rest with dynamic imports: ESM compiles a module's whole static
 * import graph before it runs any of it, so modules imported statically beside this one would
 * compile before the cache is on. (With the command tree behind one dynamic import, the main
 * command got ~12 % faster on Node 24.)
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
