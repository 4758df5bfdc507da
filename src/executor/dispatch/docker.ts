// Docker dispatch: run a payload in the executor image on the local Docker Engine and read the
// start markers and the result line back from the container's stdout.
//
// Outcome rules (docs/executor.md): anything that fails before the engine accepted `start` is
// `dispatch_failed` (the command never ran; safe to retry). After that, a result line is the
// answer; without one, a container that exited without ever printing the start marker is still
// `dispatch_failed`, and everything else (engine gone mid-run, container killed after starting)
// is `dispatch_uncertain`, which is never retried automatically.
import { setTimeout as delay } from 'node:timers/promises';
import type Docker from 'dockerode';
import { ENGINE_API_VERSION, engine, engineAt } from '../../docker/engine.js';
import { DEFAULT_EXECUTOR_IMAGE, type ExecutionResult, type ExecutorPayload } from '../contract.js';
import { DEFAULT_KILL_GRACE_SECONDS } from '../config.js';
import { errorMessage } from '../errors.js';
import { cancelledBeforeStart, dispatchResult } from '../result.js';
import { ExecutorOutputParser, TailBuffer, parseResultJson } from './output-parser.js';
import { singleFileTar } from './tar.js';
import type { PayloadRun } from '../execute.js';

/** The Engine API version we speak; every call goes through a client pinned to it. */
export const DOCKER_API_VERSION = ENGINE_API_VERSION;
export { DEFAULT_EXECUTOR_IMAGE };
const PAYLOAD_DIR = '/tmp';
const PAYLOAD_NAME = 'llmctl-payload.json';

export interface DockerDispatchOptions {
  /** executor image; default $LLMCTL_EXECUTOR_IMAGE or llmctl-executor:latest. */
  image?: string | undefined;
  /** Engine socket; default $DOCKER_HOST or /var/run/docker.sock (dockerode's own default). */
  socketPath?: string | undefined;
  /** container network mode, e.g. `none` or a user network; default the engine's bridge. */
  network?: string | undefined;
  /** keep the container after the run (for debugging); default removed. */
  keepContainer?: boolean | undefined;
  /**
   * Seconds, beyond timeout_seconds and the stop grace, after which the dispatcher stops waiting
   * for a container that should have ended by itself. Default 60.
   */
  deadlineSlackSeconds?: number | undefined;
}


function statusCodeOf(err: unknown): number | undefined {
  const code = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/**
 * Whether an image reference names a registry host (`127.0.0.1:5000/x`, `registry.example/x`,
 * `localhost/x`). Only those are pulled: a bare name would make the engine go to Docker Hub,
 * and executor images are built locally (build-executor.sh) or pushed to a registry we name.
 */
export function namesRegistryHost(image: string): boolean {
  const slash = image.indexOf('/');
  if (slash === -1) return false;
  const first = image.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost';
}

async function pullImage(docker: Docker, image: string): Promise<void> {
  const stream = (await docker.pull(image)) as NodeJS.ReadableStream;
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, events: Array<{ error?: string }>) => {
      const failure = err?.message ?? events.find((e) => e.error)?.error;
      if (failure) reject(new Error(failure));
      else resolve();
    });
  });
}


/**
 * The container's exit status, or the error that kept us from learning it. docker-modem never
 * settles wait() when the connection drops mid-response, so once the output stream has ended we
 * also ask the engine directly: a failed inspect means we lost the engine.
 */
async function waitForExit(
  container: Docker.Container,
  streamEnded: Promise<void>,
): Promise<{ status?: number | undefined; error?: unknown }> {
  let settled = false;
  const waited = container.wait().then(
    (r: { StatusCode?: number }) => ({ status: r.StatusCode }),
    (error: unknown) => ({ error }),
  );
  const polled = streamEnded.then(async () => {
    for (;;) {
      await delay(1000);
      if (settled) return {};
      try {
        const info = await container.inspect();
        if (!info.State.Running) return { status: info.State.ExitCode };
      } catch (error) {
        return { error };
      }
    }
  });
  const outcome = await Promise.race([waited, polled]);
  settled = true;
  return outcome;
}

export async function dispatchToDocker(
  payload: ExecutorPayload,
  run: PayloadRun,
  options: DockerDispatchOptions = {},
): Promise<ExecutionResult> {
  const startedAt = new Date();
  const image = options.image ?? run.env.LLMCTL_EXECUTOR_IMAGE ?? DEFAULT_EXECUTOR_IMAGE;
  const dispatchMeta: Record<string, unknown> = { provider: 'docker', image, docker_api_version: DOCKER_API_VERSION };
  run.ctx.provider_metadata.dispatch = dispatchMeta;
  const fail = (status: 'dispatch_failed' | 'dispatch_uncertain', message: string, details: Record<string, unknown> = {}, stderr = '') =>
    dispatchResult(status, message, details, startedAt, run.ctx, { stderr });

  const docker = options.socketPath ? engineAt(options.socketPath) : engine();

  try {
    await docker.ping();
  } catch (err) {
    return fail('dispatch_failed', `Docker engine not reachable: ${errorMessage(err)}`);
  }

  try {
    const info = await docker.getImage(image).inspect();
    dispatchMeta.image_id = info.Id;
  } catch (err) {
    if (statusCodeOf(err) !== 404) return fail('dispatch_failed', `cannot inspect image ${image}: ${errorMessage(err)}`);
    if (!namesRegistryHost(image))
      return fail(
        'dispatch_failed',
        `image ${image} is not present on the Docker engine; build it with app/llmctl-executor/build-executor.sh ` +
          '(or name a registry host, e.g. 127.0.0.1:5000/llmctl-executor:latest, to pull it)',
        { image },
      );
    try {
      await pullImage(docker, image);
      dispatchMeta.image_id = (await docker.getImage(image).inspect()).Id;
    } catch (pullErr) {
      return fail(
        'dispatch_failed',
        `image ${image} is not present locally and could not be pulled (${errorMessage(pullErr)}); ` +
          'build it with app/llmctl-executor/build-executor.sh',
      );
    }
  }

  // Inside the container the executor stops its command group with its own grace; the engine's
  // stop timeout must outlast that so the cancelled result still gets printed.
  const innerGraceSeconds = Math.ceil(run.config.killGraceMs / 1000) || DEFAULT_KILL_GRACE_SECONDS;
  const stopTimeout = innerGraceSeconds + 5;
  const containerEnv: string[] = [];
  for (const key of ['LLMCTL_EXECUTOR_KILL_GRACE_SECONDS', 'LLMCTL_EXECUTOR_DEFAULT_CWD'] as const) {
    const value = run.env[key];
    if (value) containerEnv.push(`${key}=${value}`);
  }

  let container: Docker.Container;
  try {
    container = await docker.createContainer({
      Image: image,
      Cmd: ['--payload-file', `${PAYLOAD_DIR}/${PAYLOAD_NAME}`],
      Env: containerEnv,
      Labels: { 'procctl.executor': 'true', 'procctl.executor.request_id': payload.request_id ?? '' },
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
      OpenStdin: false,
      StopTimeout: stopTimeout,
      HostConfig: {
        // An init process reaps orphaned grandchildren and forwards `docker stop`'s SIGTERM.
        Init: true,
        AutoRemove: false,
        ...(options.network ? { NetworkMode: options.network } : {}),
      },
    });
  } catch (err) {
    return fail('dispatch_failed', `cannot create container from ${image}: ${errorMessage(err)}`);
  }
  dispatchMeta.container_id = container.id;

  const cleanup = async (): Promise<void> => {
    if (options.keepContainer) return;
    await container.remove({ force: true }).catch((err: unknown) => {
      run.ctx.warnings.push(`container ${container.id} could not be removed: ${errorMessage(err)}`);
    });
  };

  try {
    await container.putArchive(await singleFileTar(PAYLOAD_NAME, Buffer.from(JSON.stringify(payload))), { path: PAYLOAD_DIR });
  } catch (err) {
    await cleanup();
    return fail('dispatch_failed', `cannot copy the payload into container ${container.id}: ${errorMessage(err)}`);
  }

  const parser = new ExecutorOutputParser(run.writeLine);
  const stderrTail = new TailBuffer();
  let streamEnded: Promise<void>;
  try {
    // Attach before start so not a byte of output is missed.
    const stream = (await container.attach({ stream: true, stdout: true, stderr: true })) as NodeJS.ReadableStream;
    docker.modem.demuxStream(stream, parser, stderrTail);
    streamEnded = new Promise<void>((resolve) => {
      stream.on('end', () => resolve());
      stream.on('close', () => resolve());
      stream.on('error', () => resolve());
    });
  } catch (err) {
    await cleanup();
    return fail('dispatch_failed', `cannot attach to container ${container.id}: ${errorMessage(err)}`);
  }

  if (run.signal?.aborted) {
    // Cancelled before anything ran: say so plainly rather than start and stop a container.
    await cleanup();
    return cancelledBeforeStart(startedAt, run.ctx);
  }
  try {
    await container.start();
  } catch (err) {
    await cleanup();
    return fail('dispatch_failed', `cannot start container ${container.id}: ${errorMessage(err)}`, {}, stderrTail.text());
  }

  // From here on the command may be running: failures are uncertain unless proven otherwise.
  let deadlineHit = false;
  const onAbort = (): void => {
    void container.stop({ t: stopTimeout }).catch(() => {});
  };
  run.signal?.addEventListener('abort', onAbort, { once: true });
  if (run.signal?.aborted) onAbort();
  const deadlineMs = (payload.timeout_seconds + stopTimeout + (options.deadlineSlackSeconds ?? 60)) * 1000;
  const deadline = setTimeout(() => {
    deadlineHit = true;
    void container.kill().catch(() => {});
  }, deadlineMs);

  const exited = await waitForExit(container, streamEnded);
  clearTimeout(deadline);
  run.signal?.removeEventListener('abort', onAbort);
  const exitStatus = exited.status;
  const waitError = exited.error;
  // The attach stream ends right after the container; don't wait long if the engine is gone.
  let settle: NodeJS.Timeout | undefined;
  await Promise.race([streamEnded, new Promise<void>((resolve) => (settle = setTimeout(resolve, 5000)))]);
  clearTimeout(settle);
  parser.flushPending();
  dispatchMeta.container_exit_code = exitStatus ?? null;

  const details = {
    container_id: container.id,
    container_exit_code: exitStatus ?? null,
    ...(parser.unexpected ? { unexpected_stdout: parser.unexpected } : {}),
  };
  let result: ExecutionResult;
  if (waitError !== undefined) {
    result = fail(
      'dispatch_uncertain',
      `lost contact with the Docker engine while container ${container.id} was running (${errorMessage(waitError)}); ` +
        'the command may or may not have run to completion',
      details,
      stderrTail.text(),
    );
  } else if (parser.resultLine !== undefined) {
    try {
      result = parseResultJson(parser.resultLine);
      result.provider_metadata = { ...result.provider_metadata, dispatch: dispatchMeta };
    } catch (err) {
      result = fail('dispatch_uncertain', `container ${container.id} printed an unreadable result: ${errorMessage(err)}`, details, stderrTail.text());
    }
  } else if (!parser.startedMarkerSeen && !deadlineHit) {
    result = fail(
      'dispatch_failed',
      `container ${container.id} exited with status ${String(exitStatus)} before the executor started the command`,
      details,
      stderrTail.text(),
    );
  } else {
    const why = deadlineHit
      ? `container ${container.id} outlived timeout_seconds by more than the dispatch slack and was killed`
      : `container ${container.id} exited with status ${String(exitStatus)} without printing a result`;
    result = fail('dispatch_uncertain', `${why}; the command's outcome is unknown`, details, stderrTail.text());
  }
  const warningsBefore = run.ctx.warnings.length;
  await cleanup();
  // A container that could not be removed is worth knowing whichever result we return.
  const late = run.ctx.warnings.slice(warningsBefore);
  if (late.length > 0 && !late.every((w) => result.warnings?.includes(w))) result.warnings = [...(result.warnings ?? []), ...late];
  return result;
}
