/** `procctl run`: the flags, then one call into the library's `run`. */
import { randomUUID } from 'node:crypto';
import { Option, type Command } from 'commander';
import type { Envelope } from '../contracts/envelope.js';
import type { Mode } from '../contracts/inputs.js';
import { parseAttachSpec } from '../artifacts/attachments.js';
import { DEFAULT_WRITE_PREFIX } from '../artifacts/paths.js';
import { failureFor } from '../adapters/envelope-for.js';
import { run } from '../api/run.js';
import { artifactsLocation, openStore } from '../api/store-from-location.js';
import { Registry } from '../registry/registry.js';
import type { ArtifactStore } from '../artifacts/store.js';
import type { Adapter } from '../adapters/types.js';
import { readInputs, type InputsFlags } from './read-inputs.js';
import { exitCodeFor, printEnvelope, stderrEventPrinter } from './print.js';

export interface RunFlags extends InputsFlags {
  ref: string;
  mode?: Mode;
  attach: string[];
  executionId?: string;
  writePrefix: string;
  json?: boolean;
  quiet?: boolean;
  artifacts?: string;
  registry?: string;
  adapter: string;
  placement?: Placement;
}

/**
 * Where the local adapter runs the work. `auto`: mock in-process (no Docker), real in a container
 * (the started one, else one for this run). `container`: only a started container (localctl run).
 */
export type Placement = 'auto' | 'in-process' | 'container';

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
    .option('--write-prefix <template>', 'artifact prefix template containing {execution_id}', DEFAULT_WRITE_PREFIX)
    .option('--artifacts <location>', 'artifact store: a directory or s3://bucket/prefix (env PROCCTL_ARTIFACTS; default .procctl/artifacts)')
    .option('--registry <dir>', 'registry directory (env PROCCTL_REGISTRY; default: the built-in processors)')
    .option('--json', 'print the canonical envelope alone on stdout')
    .option('-q, --quiet', 'no logs or tokens on stderr');
}

export async function runAction(flags: RunFlags): Promise<number> {
  const executionId = flags.executionId ?? randomUUID();
  const location = artifactsLocation(flags.artifacts);
  const printer = flags.quiet ? undefined : stderrEventPrinter();
  let envelope: Envelope;
  try {
    const store = await openStore(location);
    const inputs = await readInputs(flags);
    const adapter = await adapterFor(flags.placement ?? 'auto', inputs.mode ?? flags.mode ?? 'mock', store);
    const result = await run({
      ...(adapter && { adapter }),
      ref: flags.ref,
      inputs,
      ...(flags.mode && { mode: flags.mode }),
      attachments: flags.attach.map(parseAttachSpec),
      executionId,
      writePrefix: flags.writePrefix,
      store,
      registry: Registry.fromOptions(flags.registry),
      adapterOpts: printer ? { onEvent: printer.onEvent } : {},
    });
    envelope = result.envelope;
  } catch (err) {
    envelope = failureFor({ ref: flags.ref, executionId, mode: flags.mode ?? 'mock', secretsPresent: [] }, err);
  }
  printer?.end();
  printEnvelope(envelope, flags.json ?? false, location);
  return exitCodeFor(envelope);
}

/** The placement's adapter; undefined means the library default (in-process). */
async function adapterFor(placement: Placement, mode: Mode, store: ArtifactStore): Promise<Adapter | undefined> {
  if (placement === 'in-process' || (placement === 'auto' && mode === 'mock')) return undefined;
  // Loaded only here: mock runs never pay for the Docker client.
  const { ContainerAdapter } = await import('../adapters/docker/container-adapter.js');
  return new ContainerAdapter({ store, policy: placement === 'container' ? 'started' : 'started-or-ephemeral', progress: (m) => process.stderr.write(`${m}\n`) });
}

export function registerRunCommand(program: Command): void {
  addRunOptions(program.command('run').description('run a processor and print its envelope'))
    .addOption(new Option('--adapter <adapter>', 'where it runs').choices(['local']).default('local'))
    .addOption(new Option('--placement <placement>', 'local adapter: auto (mock in-process, real in a container), in-process, or container (a started one)').choices(['auto', 'in-process', 'container']).default('auto'))
    .action(async (flags: RunFlags) => {
      process.exitCode = await runAction(flags);
    });
}
