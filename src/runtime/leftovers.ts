/**
 * A runtime that outlives whoever started it is a leftover: a listening port, and in a container
 * the secrets it holds. Two cheap watches end it:
 *
 * - `PROCCTL_RUNTIME_EXIT_WITH_STDIN=1` (the process placement): the parent holds our stdin pipe;
 *   when it dies, even by `kill -9`, the kernel closes the pipe and we see EOF at once.
 * - `PROCCTL_RUNTIME_IDLE_EXIT_MS=N` (one-off containers): exit once no connection has been open for
 *   N ms, counted from start and after each connection; the CLI holds its connection for the whole
 *   run, so only a dead (or finished) CLI lets the timer run out.
 */
import { EXIT_WITH_STDIN_VARIABLE, idleExitMsFromEnv } from './config.js';
import type { RuntimeServer } from './server.js';

export function watchForLeftover(server: RuntimeServer, env: NodeJS.ProcessEnv, exit: (why: string) => void): void {
  if (env[EXIT_WITH_STDIN_VARIABLE] === '1') {
    process.stdin.on('data', () => undefined);
    process.stdin.once('end', () => exit('stdin closed: the process that started this runtime is gone'));
    process.stdin.once('error', () => exit('stdin failed: the process that started this runtime is gone'));
  }
  const idleMs = idleExitMsFromEnv(env);
  if (idleMs !== undefined) {
    let idleSince = Date.now();
    // A poll of a counter, not a hook into the server: four checks per idle period cost nothing.
    const timer = setInterval(() => {
      if (server.stats().connections > 0) idleSince = Date.now();
      else if (Date.now() - idleSince >= idleMs) {
        clearInterval(timer);
        exit(`no connection for ${idleMs} ms`);
      }
    }, Math.max(25, Math.floor(idleMs / 4)));
    timer.unref();
  }
}
