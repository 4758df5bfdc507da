#!/usr/bin/env node
import { registerModalCommands } from './modal-commands.js';
import { createProgram, main } from './main.js';

const program = createProgram('modalctl', 'run processors as deployments on Modal');
registerModalCommands(program);
await main(program);
