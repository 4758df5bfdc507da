#!/usr/bin/env node
// The compile cache first, and alone: ESM compiles a module's whole static import graph before it
// runs any of it, so only modules imported after the cache is on are cached (see procctl.ts).
import '../cache/compile-cache.js';

const [{ registerLocalCommands }, { createProgram, main }] = await Promise.all([import('./local-commands.js'), import('./main.js')]);
const program = createProgram('localctl', 'run processors in containers on the local Docker engine');
registerLocalCommands(program);
await main(program);
