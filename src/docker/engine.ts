/**
 * The Docker Engine API client. dockerode is loaded lazily (only commands that touch Docker pay
 * for it) and pinned to API v1.41, the newest that Debian's engine speaks; DOCKER_HOST and the
 * other standard variables are honoured by dockerode itself. The plain JSON calls of a container
 * start go through engine-api.ts instead, which needs no dockerode (~115 ms to load).
 */
import { createRequire } from 'node:module';
import type Dockerode from 'dockerode';
import { ProcctlError } from '../contracts/errors.js';

export const ENGINE_API_VERSION = 'v1.41';
const require = createRequire(import.meta.url);
let client: Dockerode | undefined;

function createClient(options: Dockerode.DockerOptions = {}): Dockerode {
  const DockerodeClass = require('dockerode') as typeof Dockerode;
  return new DockerodeClass({ ...options, version: ENGINE_API_VERSION });
}

/** The engine named by the environment (DOCKER_HOST, else the default socket), shared. */
export function engine(): Dockerode {
  client ??= createClient();
  return client;
}

/** A client for an engine at another socket (e.g. `--docker-socket`), same API version. */
export function engineAt(socketPath: string): Dockerode {
  return createClient({ socketPath });
}

/** The engine answers, or ERR_DOCKER_UNAVAILABLE saying how to start one. */
export async function requireEngine(): Promise<Dockerode> {
  const docker = engine();
  try {
    await docker.ping();
  } catch (err) {
    throw engineUnavailable(err);
  }
  return docker;
}

/** Whether an engine call failed for want of an engine (no socket, refused…), not with an API answer. */
export function isUnreachable(err: unknown): boolean {
  return statusOf(err) === undefined;
}

export function engineUnavailable(err: unknown): ProcctlError {
  return new ProcctlError('ERR_DOCKER_UNAVAILABLE', `no Docker engine answers (${describeEngineError(err)}); start dockerd (bash .ci/services.sh does) or set DOCKER_HOST`, undefined, { cause: err });
}

export function describeEngineError(err: unknown): string {
  const e = err as { code?: string; statusCode?: number; json?: { message?: string }; reason?: string; message?: string };
  if (e.json?.message) return e.json.message;
  if (e.code) return e.code;
  return e.message ?? String(err);
}

export function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number }).statusCode;
}

/** Reads a JSON-lines progress stream (pull, push, build) to its end; an `error` line throws. */
export function followProgress(stream: NodeJS.ReadableStream, onEvent?: (event: Record<string, unknown>) => void): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    engine().modem.followProgress(
      stream,
      (err: Error | null, events: Record<string, unknown>[]) => {
        if (err) return reject(err);
        const failed = events.find((e) => typeof e['error'] === 'string' || e['errorDetail']);
        if (failed) return reject(new Error(String(failed['error'] ?? (failed['errorDetail'] as { message?: string }).message)));
        resolve(events);
      },
      onEvent,
    );
  });
}
