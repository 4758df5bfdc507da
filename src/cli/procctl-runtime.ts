#!/usr/bin/env node
/**
 * `procctl-runtime`: the processor runtime as a process — what a container runs, and what the local
 * process placement starts. SIGTERM (or SIGINT) drains and exits 0; a second one exits at once.
 */
import { ERROR_CODES, ProcctlError, toProcctlError } from '../contracts/errors.js';
import { SUBPROTOCOL } from '../protocol/constants.js';
import { RUNTIME_USAGE, runtimeOptionsFromEnv, TOKEN_VARIABLE, unknownSettings } from '../runtime/config.js';
import { RuntimeServer } from '../runtime/server.js';
import { asksForVersion, VERSION } from './version.js';

function fail(err: unknown): never {
  const failure = toProcctlError(err);
  process.stderr.write(`error ${failure.code}: ${failure.message}\n`);
  process.exit(failure.exitCode);
}

const args = process.argv.slice(2);
if (asksForVersion(args)) {
  process.stdout.write(`${VERSION}\n`);
  process.exit(0);
}
if (args.length > 0) {
  const help = args.length === 1 && (args[0] === '--help' || args[0] === '-h');
  (help ? process.stdout : process.stderr).write(RUNTIME_USAGE);
  process.exit(help ? 0 : ERROR_CODES.ERR_USAGE.exitCode);
}

let server: RuntimeServer;
try {
  const options = runtimeOptionsFromEnv(process.env);
  for (const name of unknownSettings(process.env)) process.stderr.write(`procctl-runtime: warning: ${name} is not a setting of this runtime and is ignored (see procctl-runtime --help)\n`);
  // The token now lives only in memory: neither handlers nor their children can read it.
  delete process.env[TOKEN_VARIABLE];
  server = await RuntimeServer.start(options).catch((err: NodeJS.ErrnoException) => {
    throw new ProcctlError('ERR_RUNTIME_UNAVAILABLE', `cannot listen on ${options.host}:${options.port}: ${err.code ?? err.message}`, { host: options.host, port: options.port });
  });
} catch (err) {
  fail(err);
}

const { host, port } = server.address;
process.stdout.write(`${JSON.stringify({ event: 'listening', host, port, protocol: SUBPROTOCOL, pid: process.pid })}\n`);

// A shared runtime serves other people's runs: a stray throw from one handler's timer or promise
// must not end it for everyone. Each run's own failures are its envelope; this is the net under
// that, which says what happened and keeps serving.
process.on('uncaughtException', (err) => process.stderr.write(`procctl-runtime: uncaught exception, kept serving: ${err instanceof Error ? err.message : String(err)}\n`));
process.on('unhandledRejection', (err) => process.stderr.write(`procctl-runtime: unhandled rejection, kept serving: ${err instanceof Error ? err.message : String(err)}\n`));

let signals = 0;
const onSignal = (signal: NodeJS.Signals) => {
  if (++signals > 1) {
    process.stderr.write(`procctl-runtime: ${signal} again; exiting now\n`);
    process.exit(1);
  }
  process.stderr.write(`procctl-runtime: ${signal}\n`);
  // Exit explicitly: a handler that ignored its abort may still hold the event loop open.
  void server.shutdown().then(() => process.exit(0), fail);
};
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);
