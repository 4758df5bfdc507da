#!/usr/bin/env node
// First: every module loaded after it is compiled once and cached (Node >= 22.1).
import '../cache/compile-cache.js';
import { registerLocalCommands } from './local-commands.js';
import { createProgram, main } from './main.js';

const program = createProgram('localctl', 'run processors in containers on the local Docker engine');
registerLocalCommands(program);
await main(program);
