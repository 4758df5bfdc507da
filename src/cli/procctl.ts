#!/usr/bin/env node
// The compile cache first, and alone: ESM compiles a module's whole static import graph before it
// runs any of it, so only modules imported after the cache is on are cached. Hence the dynamic
// imports below, in order: the run's handler thread starts while the command tree loads.
import '../cache/compile-cache.js';

await import('./prestart-worker.js');
await import('./procctl-program.js');
