#!/usr/bin/env node
import { registerLocalCommands } from './local-commands.js';
import { createProgram, main } from './main.js';

const program = createProgram('localctl', 'run processors in containers on the local Docker engine');
registerLocalCommands(program);
await main(program);
