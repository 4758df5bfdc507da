#!/usr/bin/env node
import { registerImagesCommand } from './images-command.js';
import { registerRegistryCommand } from './registry-command.js';
import { registerRunCommand } from './run-command.js';
import { registerSchemaCommand } from './schema-command.js';
import { createProgram, main } from './main.js';

const program = createProgram('procctl', 'run containerised processors in-process, in Docker, on Modal or Kubernetes');
registerRunCommand(program);
registerRegistryCommand(program);
registerSchemaCommand(program);
registerImagesCommand(program);
await main(program);
