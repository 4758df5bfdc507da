#!/usr/bin/env node
/**
 * `procctl-runtime`: the processor runtime as a process — what a container runs, and what the local
 * process placement starts. SIGTERM (or SIGINT) drains and exits 0; a second one exits at once.
 */
// The compile cache first, and alone: ESM compiles a module's whole static import graph before it
// runs any of it, so only modules imported after the cache is on are cached (see procctl.ts).
import '../cache/compile-cache.js';
import type { RuntimeServer as Server } from '../runtime/server.js';

const [{ ERROR_CODES, ProcctlError, toProcctlError }, { SUBPROTOCOL }, { RUNTIME_USAGE, runtimeOptionsFromEnv, TOKEN_VARIABLE, unknownSettings }, { watchForLeftover }, { RuntimeServer }, { asksForVersion, VERSION }] = await Promise.all([
  import('../contracts/errors.js'),
  import('../protocol/constants.js'),
  import('../runtime/config.js'),
  import('../runtime/leftovers.js'),
  import('../runtime/server.js'),
  import('./version.js'),
]);

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

let server: Server;
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

// A parent that died (kill -9 of the CLI) leaves our stdout and stderr pipes broken. EPIPE there is
// no failure of the runtime, and must never reach the net below: it writes to stderr, which would
// fail again, and the runtime would spin at full CPU instead of noticing its parent is gone.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);

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
// Whoever stops the runtime may end its drain early (localctl stop, at the end of its grace): what
// still runs is cancelled now, with its result sent, instead of at PROCCTL_RUNTIME_DRAIN_MS.
process.on('SIGUSR2', () => server.endDrain());
// Nobody is left to receive results: stop without a drain.
watchForLeftover(server, process.env, (why) => {
  process.stderr.write(`procctl-runtime: ${why}; exiting\n`);
  void server.shutdown(0).then(() => process.exit(0), fail);
});
