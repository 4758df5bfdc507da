// `procctl exec`: dispatch one executor payload to a provider and print what llmctl-executor
// would print (start markers, then one LLMCTL_EXECUTOR_RESULT_JSON= line), exiting with the same
// codes. A thin layer over dispatchExecutor() in src/executor.
import { Option, type Command } from 'commander';
import { DEFAULT_EXECUTOR_IMAGE, PROVIDERS, type Provider } from '../executor/contract.js';
import { installCancelSignals } from '../executor/cancel-signals.js';

interface ExecFlags {
  provider?: Provider;
  payloadFile?: string;
  payloadJson?: string;
  outputFile?: string;
  image?: string;
  dockerSocket?: string;
  network?: string;
  keepContainer?: boolean;
  context?: string;
  namespace?: string;
  cpu?: string;
  memory?: string;
}

/** Adds `exec` to `program` and returns the new subcommand. */
export function registerExecCommand(program: Command): Command {
  return program
    .command('exec')
    .description('run one llmctl-executor payload on a provider and print its ExecutionResult v1 line')
    .addOption(
      new Option('--provider <provider>', "where to run it; overrides the payload's provider").choices([...PROVIDERS]),
    )
    .option('--payload-file <path>', 'read the payload JSON from this file')
    .option('--payload-json <json>', 'the payload JSON itself')
    .option('--output-file <path>', 'also write the result JSON to this file (atomically)')
    .option('--image <ref>', `executor image for --provider docker or kubernetes (default $LLMCTL_EXECUTOR_IMAGE or ${DEFAULT_EXECUTOR_IMAGE})`)
    .option('--docker-socket <path>', 'Docker Engine socket (default $DOCKER_HOST or /var/run/docker.sock)')
    .option('--network <mode>', 'container network for --provider docker (e.g. none)')
    .option('--keep-container', 'keep the container after the run, for debugging')
    .option('--context <name>', 'kubeconfig context for --provider kubernetes (default its current-context)')
    .option('--namespace <ns>', "namespace for --provider kubernetes (default the context's, else default)")
    .option('--cpu <quantity>', 'CPU request and limit of the Job, e.g. 500m (--provider kubernetes)')
    .option('--memory <quantity>', 'memory request and limit of the Job, e.g. 256Mi (--provider kubernetes)')
    .addHelpText(
      'after',
      '\nPayload sources, highest priority first: --payload-file, --payload-json, LLMCTL_EXECUTOR_PAYLOAD_FILE,\n' +
        'LLMCTL_EXECUTOR_PAYLOAD_JSON, JSON on stdin. Exit codes mirror llmctl-executor, plus 4 dispatch_failed\n' +
        'and 5 dispatch_uncertain. See docs/executor.md.',
    )
    .action(async (flags: ExecFlags) => {
      // Dispatch (and the Docker client under it) loads only for `exec`: every procctl command
      // registers this one, and start-up time is measured.
      const { dispatchExecutor } = await import('../executor/dispatch/index.js');
      const controller = new AbortController();
      const uninstall = installCancelSignals(controller);
      try {
        const run = await dispatchExecutor({
          provider: flags.provider,
          payloadFile: flags.payloadFile,
          payloadJson: flags.payloadJson,
          outputFile: flags.outputFile,
          stdin: () => process.stdin,
          signal: controller.signal,
          docker: {
            image: flags.image,
            socketPath: flags.dockerSocket,
            network: flags.network,
            keepContainer: flags.keepContainer,
          },
          kubernetes: { image: flags.image, context: flags.context, namespace: flags.namespace, cpu: flags.cpu, memory: flags.memory },
        });
        process.exitCode = run.exitCode;
      } finally {
        uninstall();
      }
    });
}
