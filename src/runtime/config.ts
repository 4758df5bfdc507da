/**
 * The runtime's configuration comes from its environment, because that is what a container
 * gives it: `PROCCTL_RUNTIME_*` for the server, `PROCCTL_IMAGE_DIGEST`, `PROCCTL_REGISTRY`, and the
 * processor's secrets and settings as plain variables. Every bad value is named in its error.
 */
import { ProcctlError } from '../contracts/errors.js';
import { HANDLER_THREADS_VARIABLE } from './handler-threads.js';
import { RUNTIME_DEFAULTS, type RuntimeServerOptions } from './server.js';

export const TOKEN_VARIABLE = 'PROCCTL_RUNTIME_TOKEN';

/** The variables beyond host, port, token, digest and registry, and the option each sets. */
const TUNING = {
  PROCCTL_RUNTIME_QUEUE: 'queueLimit',
  PROCCTL_RUNTIME_MAX_CONNECTIONS: 'maxConnections',
  PROCCTL_RUNTIME_PING_MS: 'pingIntervalMs',
  PROCCTL_RUNTIME_DRAIN_MS: 'drainMs',
  PROCCTL_RUNTIME_STUCK_GRACE_MS: 'stuckGraceMs',
  PROCCTL_RUNTIME_MAX_ATTACHMENT_BYTES: 'maxAttachmentBytes',
  PROCCTL_RUNTIME_BUFFER_BYTES: 'bufferBytes',
  [HANDLER_THREADS_VARIABLE]: 'handlerThreads',
} as const;

function usage(message: string, variable: string): ProcctlError {
  return new ProcctlError('ERR_USAGE', message, { variable });
}

function wholeNumber(env: NodeJS.ProcessEnv, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) throw usage(`${name}=${JSON.stringify(text)} is not a whole number from ${min} to ${max}`, name);
  return Number(text);
}

/**
 * Options from an environment. The token is required; the handlers' environment is the same one
 * without the token, so no processor can read it through `ctx.config`.
 */
export function runtimeOptionsFromEnv(env: NodeJS.ProcessEnv): RuntimeServerOptions {
  const token = env[TOKEN_VARIABLE];
  if (token === undefined || token.trim() === '') {
    throw usage(`${TOKEN_VARIABLE} is not set; the runtime refuses to serve without a bearer token (the control plane mints one per start and presents it as "Authorization: Bearer <token>")`, TOKEN_VARIABLE);
  }
  const host = env['PROCCTL_RUNTIME_HOST'] || RUNTIME_DEFAULTS.host;
  const port = wholeNumber(env, 'PROCCTL_RUNTIME_PORT', 0, 65535) ?? RUNTIME_DEFAULTS.port;
  const handlerEnv = { ...env };
  delete handlerEnv[TOKEN_VARIABLE];
  const options: RuntimeServerOptions = {
    token: token.trim(),
    host,
    port,
    imageDigest: env['PROCCTL_IMAGE_DIGEST'] || null,
    env: handlerEnv,
  };
  if (env['PROCCTL_REGISTRY']) options.registryDir = env['PROCCTL_REGISTRY'];
  const logRuns = env['PROCCTL_RUNTIME_LOG_RUNS'];
  if (logRuns !== undefined && logRuns !== '') {
    if (!['1', '0', 'true', 'false'].includes(logRuns)) throw usage(`PROCCTL_RUNTIME_LOG_RUNS=${JSON.stringify(logRuns)} is not 1, 0, true or false`, 'PROCCTL_RUNTIME_LOG_RUNS');
    options.logRuns = logRuns === '1' || logRuns === 'true';
  }
  for (const [name, option] of Object.entries(TUNING)) {
    // Zero means "none": no queue, no drain time, no grace; the others need at least 1.
    const value = wholeNumber(env, name, option === 'queueLimit' || option === 'drainMs' || option === 'stuckGraceMs' ? 0 : 1);
    if (value !== undefined) options[option] = value;
  }
  return options;
}

/** Lifetime settings read by the bin (procctl-runtime.ts), not the server: see leftovers.ts. */
export const EXIT_WITH_STDIN_VARIABLE = 'PROCCTL_RUNTIME_EXIT_WITH_STDIN';
export const IDLE_EXIT_VARIABLE = 'PROCCTL_RUNTIME_IDLE_EXIT_MS';

const KNOWN_SETTINGS = new Set<string>([TOKEN_VARIABLE, 'PROCCTL_RUNTIME_HOST', 'PROCCTL_RUNTIME_PORT', 'PROCCTL_RUNTIME_LOG_RUNS', EXIT_WITH_STDIN_VARIABLE, IDLE_EXIT_VARIABLE, ...Object.keys(TUNING)]);

/** `PROCCTL_RUNTIME_IDLE_EXIT_MS` as a number, or undefined when unset; bad values are usage errors. */
export function idleExitMsFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  return wholeNumber(env, IDLE_EXIT_VARIABLE, 100);
}

/**
 * `PROCCTL_RUNTIME_*` variables this runtime does not know: most likely typos, which would
 * otherwise do nothing without a word. Warned about, not refused, so a newer control plane may
 * set a variable an older image does not know yet.
 */
export function unknownSettings(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(env)
    .filter((name) => name.startsWith('PROCCTL_RUNTIME_') && !KNOWN_SETTINGS.has(name))
    .sort();
}

export const RUNTIME_USAGE = `Usage: procctl-runtime          (procctl-runtime --version prints the version)

The procctl processor runtime: GET /healthz and the procctl.run.v1 WebSocket endpoint /run.
Configured by environment; prints {"event":"listening","host":…,"port":…} on stdout once bound.

  ${TOKEN_VARIABLE}             bearer token clients must present (required)
  PROCCTL_RUNTIME_HOST              address to bind (default ${RUNTIME_DEFAULTS.host})
  PROCCTL_RUNTIME_PORT              port to bind; 0 picks a free one (default 0)
  PROCCTL_IMAGE_DIGEST              reported by /healthz as "digest" (default null)
  PROCCTL_REGISTRY                  registry folder with user handlers (<slug>/handler.js)
  PROCCTL_RUNTIME_QUEUE             invokes that may wait per processor (default ${RUNTIME_DEFAULTS.queueLimit})
  PROCCTL_RUNTIME_MAX_CONNECTIONS   open connections at most (default ${RUNTIME_DEFAULTS.maxConnections})
  PROCCTL_RUNTIME_PING_MS           keepalive ping interval (default ${RUNTIME_DEFAULTS.pingIntervalMs})
  PROCCTL_RUNTIME_DRAIN_MS          on SIGTERM, how long running runs may finish (default ${RUNTIME_DEFAULTS.drainMs})
  PROCCTL_RUNTIME_STUCK_GRACE_MS    how long a handler may ignore an abort before /healthz fails (default ${RUNTIME_DEFAULTS.stuckGraceMs})
  PROCCTL_RUNTIME_MAX_ATTACHMENT_BYTES  attachment bytes one invoke may send (default ${RUNTIME_DEFAULTS.maxAttachmentBytes})
  PROCCTL_RUNTIME_BUFFER_BYTES      unread bytes queued per client before waiting or dropping events (default ${RUNTIME_DEFAULTS.bufferBytes})
  PROCCTL_RUNTIME_EXIT_WITH_STDIN   1: exit when stdin closes (the parent that started it is gone)
  PROCCTL_RUNTIME_IDLE_EXIT_MS      exit once no connection has been open for this long (one-off containers)

Secrets and settings for processors are plain environment variables; invokes name the secrets present.
`;
