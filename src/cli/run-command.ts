/**
 * `procctl run`: the flags. The work itself (run-action.ts) loads only when a run is asked for,
 * so `--help` and the other commands stay quick.
 */
import { Option, type Command } from 'commander';
import type { Mode } from '../contracts/inputs.js';
import { DEFAULT_WRITE_PREFIX } from '../artifacts/paths.js';
import type { InputsFlags } from './read-inputs.js';

export interface RunFlags extends InputsFlags {
  ref: string;
  mode?: Mode;
  attach: string[];
  executionId?: string;
  replace?: boolean;
  writePrefix: string;
  json?: boolean;
  quiet?: boolean;
  artifacts?: string;
  registry?: string;
  adapter: string;
  /** The modal adapter's Modal environment. */
  env?: string;
  placement?: Placement;
  /** --adapter kubernetes: kubeconfig context and namespace. */
  context?: string;
  namespace?: string;
}

/**
 * Where the local adapter runs the work. `auto`: mock in-process (no Docker), real in a container
 * (the started one, else one for this run). `container`: only a started container (localctl run).
 * `process`: the processor runtime as a child process, over the WebSocket protocol, no Docker.
 */
export type Placement = 'auto' | 'in-process' | 'container' | 'process';

const collect = (value: string, previous: string[]) => [...previous, value];

/** The flags every `run` shares (`procctl run`, and later `localctl run`, `modalctl run`). */
export function addRunOptions(command: Command): Command {
  return command
    .requiredOption('--ref <ref>', 'processor reference, ns/name@N (e.g. llm/litellm@1)')
    .addOption(new Option('--mode <mode>', 'mock (deterministic, no network; the default) or real').choices(['mock', 'real']))
    .option('--inputs-json <json>', 'inputs v1 as a JSON string')
    .option('--inputs-file <file>', 'read inputs v1 from a file')
    .option('--inputs <dash>', 'read inputs v1 from stdin: --inputs -')
    .option('--attach <name=path>', 'attach a file for {"$attach":"name"} placeholders (repeatable)', collect, [])
    .option('--execution-id <id>', 'execution id (default: a new UUID); same id + inputs => same envelope bytes')
    .option('--replace', 'rerun an --execution-id recorded with other inputs, discarding its records (never one in progress)')
    .option('--write-prefix <template>', 'artifact prefix template containing {execution_id}', DEFAULT_WRITE_PREFIX)
    .option('--artifacts <location>', 'artifact store: a directory or s3://bucket/prefix (env PROCCTL_ARTIFACTS; default .procctl/artifacts)')
    .option('--registry <dir>', 'registry directory (env PROCCTL_REGISTRY; default: the built-in processors)')
    .option('--json', 'print the canonical envelope alone on stdout')
    .option('-q, --quiet', 'no logs or tokens on stderr');
}

export function registerRunCommand(program: Command): void {
  addRunOptions(program.command('run').description('run a processor and print its envelope'))
    .addOption(new Option('--adapter <adapter>', 'where it runs (modal: the deployment modalctl start started; kubernetes: the pod procctl kube start started)').choices(['local', 'modal', 'kubernetes']).default('local'))
    .option('--env <env>', 'modal adapter: the Modal environment of the deployment (modalctl start --env)')
    .option('--context <name>', '--adapter kubernetes: kubeconfig context (default its current-context)')
    .option('--namespace <ns>', "--adapter kubernetes: namespace (default the context's, else default)")
    .addOption(new Option('--placement <placement>', 'local adapter: auto (mock in-process, real in a container), in-process, container (a started one), or process (the runtime as a child process, over its WebSocket protocol)').choices(['auto', 'in-process', 'container', 'process']).default('auto'))
    .action(async (flags: RunFlags) => {
      const { runAction } = await import('./run-action.js');
      process.exitCode = await runAction(flags);
    });
}
