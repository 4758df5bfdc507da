#!/usr/bin/env node
// llmctl-executor: run one payload, print one `LLMCTL_EXECUTOR_RESULT_JSON=` line, exit with a
// code that mirrors the result. A thin shell over runExecutor(); see docs/executor.md.
//
// Start-up time is paid by every command the executor runs, so this bin stays lean on purpose:
// it parses its three options with node:util's parseArgs (commander alone costs ~15 ms to load
// here) and imports execute.js directly rather than the executor index, which would pull in the
// Docker client used by dispatch.
import { parseArgs } from 'node:util';
import { EXIT_CODES } from '../executor/contract.js';
import { installCancelSignals } from '../executor/cancel-signals.js';
import { ExecutorError } from '../executor/errors.js';
import { runExecutor, runWithPayload } from '../executor/execute.js';
import { asksForVersion, VERSION } from './version.js';

const USAGE = `Usage: llmctl-executor [--payload-file PATH | --payload-json JSON] [--output-file PATH]
       llmctl-executor --version

Run one execution payload (contract v1) and print one ExecutionResult v1 line:
  LLMCTL_EXECUTOR_RESULT_JSON=<json>

Payload sources, highest priority first: --payload-file, --payload-json,
LLMCTL_EXECUTOR_PAYLOAD_FILE, LLMCTL_EXECUTOR_PAYLOAD_JSON, JSON on stdin.
The result is also written atomically to --output-file / LLMCTL_EXECUTOR_OUTPUT_FILE.

Exit codes: the command's own code for success/failed, 124 timeout, 130 cancelled,
2 invalid payload or command line, 3 executor failure. See docs/executor.md.
`;

async function main(argv: string[]): Promise<number> {
  if (asksForVersion(argv)) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  let values: { 'payload-file'?: string; 'payload-json'?: string; 'output-file'?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        'payload-file': { type: 'string' },
        'payload-json': { type: 'string' },
        'output-file': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    // A usage mistake still yields a result line, so a dispatcher parsing container output
    // learns what went wrong instead of finding nothing.
    process.stderr.write(`llmctl-executor: ${(err as Error).message}\n${USAGE}`);
    const usage = new ExecutorError('usage', `bad command line: ${(err as Error).message}`, EXIT_CODES.invalid_input);
    return (await runWithPayload({ failBeforePayload: usage }, () => Promise.reject(usage))).exitCode;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }

  const controller = new AbortController();
  const uninstall = installCancelSignals(controller);
  try {
    const run = await runExecutor({
      payloadFile: values['payload-file'],
      payloadJson: values['payload-json'],
      outputFile: values['output-file'],
      stdin: () => process.stdin,
      signal: controller.signal,
    });
    return run.exitCode;
  } finally {
    uninstall();
  }
}

/**
 * Exit once stdout is flushed. stdout may be a socket (Node's own `spawn` gives children
 * socketpairs), where writes are asynchronous and process.exit() would cut a large result line;
 * an empty write's callback runs after every earlier write has gone out. Exiting explicitly (not
 * by draining the event loop) means a handle a misbehaving command left behind cannot hold us.
 */
function exitAfterFlush(code: number): void {
  process.stdout.write('', () => process.exit(code));
}

main(process.argv.slice(2)).then(
  exitAfterFlush,
  (err: unknown) => {
    // runExecutor never throws by design; reaching here is a bug, reported loudly.
    process.stderr.write(`llmctl-executor: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(EXIT_CODES.infra_error);
  },
);
