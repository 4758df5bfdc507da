/**
 * The `procctl` command tree: every subcommand registered on one program, then run. Loaded by
 * the bin (procctl.ts) once the compile cache is on.
 */
import { registerExecCommand } from './exec-command.js';
import { registerImagesCommand } from './images-command.js';
import { registerKubeCommands } from './kube-commands.js';
import { registerLocalCommands } from './local-commands.js';
import { registerModalCommands } from './modal-commands.js';
import { registerRegistryCommand } from './registry-command.js';
import { registerRunCommand } from './run-command.js';
import { registerRunsCommand } from './runs-command.js';
import { registerSchemaCommand } from './schema-command.js';
import { registerUiCommand } from './ui-command.js';
import { createProgram, main } from './main.js';

const program = createProgram('procctl', 'run containerised processors in-process, in Docker, on Modal or Kubernetes');
registerRunCommand(program);
registerRunsCommand(program);
registerUiCommand(program);
registerRegistryCommand(program);
registerSchemaCommand(program);
registerImagesCommand(program);
registerExecCommand(program);
registerLocalCommands(program.command('local').description('processor containers on the local Docker engine (same as localctl)'));
registerModalCommands(program.command('modal').description('processor deployments on Modal (same as modalctl)'));
registerKubeCommands(program.command('kube').description('processor pods on a Kubernetes cluster (the kubeconfig from KUBECONFIG, ~/.kube/config or in-cluster)'));
await main(program);
