/**
 * The handler worker's entry. A worker thread does not share its parent's compile cache, so it
 * turns the cache on itself, first and alone (ESM compiles a module's whole static import graph
 * before running any of it), and then loads what it runs: handler-worker-main.ts, and through it
 * the handler's module. Messages sent meanwhile wait in the port.
 */
import '../cache/compile-cache.js';

await import('./handler-worker-main.js');
