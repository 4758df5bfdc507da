// Runs one command as the leader of its own process group, feeds it stdin, captures both output
// streams within a bound, and ends it on timeout or cancellation by stopping the whole group.
// It reports what happened; turning that into an ExecutionResult is result.ts's job.
import { spawn, type ChildProcess } from 'node:child_process';
import { BoundedCapture, type CapturedText } from './capture.js';
import { groupAlive, stopGroup } from './process-group.js';
import { watchGroup } from './watchdog.js';

export interface RunSpec {
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** text written to the child's stdin, then closed; undefined → the child gets /dev/null. */
  stdin?: string | undefined;
  timeoutMs: number;
  captureLimitBytes: number;
  /** SIGTERM → SIGKILL grace when stopping the group. */
  killGraceMs: number;
  /** after the child exits, how long to wait for background holders of its pipes. */
  lingerMs: number;
  /** aborting cancels the run (the group is stopped). */
  signal?: AbortSignal | undefined;
  /** called once the child is running, e.g. to print start markers. */
  onSpawn?: (pid: number) => void;
}

export type RunEnd = 'exited' | 'signaled' | 'timeout' | 'cancelled' | 'spawn_error';

export interface RunOutcome {
  end: RunEnd;
  /** the child's own exit code, when it exited by itself. */
  exitCode: number | null;
  /** the signal that ended the child, if any. */
  signal: NodeJS.Signals | null;
  spawnError?: NodeJS.ErrnoException;
  pid?: number;
  stdout: CapturedText;
  stderr: CapturedText;
  startedAt: Date;
  finishedAt: Date;
  /** SIGKILL was needed because something ignored SIGTERM. */
  escalatedToKill: boolean;
  /** processes were still in the group after the child exited, and were stopped. */
  stoppedLeftovers: boolean;
  /** a pipe was still held open by a process outside the group; reading was abandoned. */
  abandonedPipes: boolean;
}

const once = <T>(emitter: ChildProcess, event: string): Promise<T> =>
  new Promise((resolve) => emitter.once(event, (...args: unknown[]) => resolve(args as T)));

export async function runCommand(spec: RunSpec): Promise<RunOutcome> {
  const stdoutCapture = new BoundedCapture(spec.captureLimitBytes);
  const stderrCapture = new BoundedCapture(spec.captureLimitBytes);
  const startedAt = new Date();
  const base = {
    startedAt,
    escalatedToKill: false,
    stoppedLeftovers: false,
    abandonedPipes: false,
  };

  if (spec.signal?.aborted) {
    return {
      ...base,
      end: 'cancelled',
      exitCode: null,
      signal: null,
      stdout: stdoutCapture.finish(),
      stderr: stderrCapture.finish(),
      finishedAt: new Date(),
    };
  }

  let child: ChildProcess;
  try {
    child = spawn(spec.file, spec.args, {
      cwd: spec.cwd,
      env: spec.env,
      stdio: [spec.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      // Own process group: timeouts and cancellation reach grandchildren via kill(-pgid).
      detached: true,
    });
  } catch (err) {
    return spawnFailure(err as NodeJS.ErrnoException);
  }
  // In the same tick as the spawn: from here on, however the executor dies, the group goes too.
  const watchdog = watchGroup(child.pid);

  const spawned = await Promise.race([
    once<[]>(child, 'spawn').then(() => null),
    once<[NodeJS.ErrnoException]>(child, 'error').then(([err]) => err),
  ]);
  if (spawned !== null || child.pid === undefined) {
    watchdog.release();
    return spawnFailure(spawned ?? new Error('no pid'));
  }
  const pid = child.pid;

  function spawnFailure(err: NodeJS.ErrnoException): RunOutcome {
    return {
      ...base,
      end: 'spawn_error',
      exitCode: null,
      signal: null,
      spawnError: err,
      stdout: stdoutCapture.finish(),
      stderr: stderrCapture.finish(),
      finishedAt: new Date(),
    };
  }

  const stdout = child.stdout!;
  const stderr = child.stderr!;
  stdout.on('data', (chunk: Buffer) => stdoutCapture.push(chunk));
  stderr.on('data', (chunk: Buffer) => stderrCapture.push(chunk));
  const streamsDone = Promise.all([
    new Promise<void>((resolve) => stdout.once('close', () => resolve())),
    new Promise<void>((resolve) => stderr.once('close', () => resolve())),
  ]);

  if (child.stdin) {
    // A child that exits without reading its stdin makes our write fail with EPIPE: that is the
    // child's choice, not an executor failure.
    child.stdin.on('error', () => {});
    child.stdin.end(spec.stdin);
  }
  spec.onSpawn?.(pid);

  let timedOut = false;
  let cancelled = false;
  let stopping: Promise<'term' | 'kill' | 'gone'> | undefined;
  const stop = (): void => {
    stopping ??= stopGroup(pid, spec.killGraceMs);
  };
  const exited = once<[number | null, NodeJS.Signals | null]>(child, 'exit');
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });

  const timer = setTimeout(() => {
    if (hasExited) return;
    timedOut = true;
    stop();
  }, spec.timeoutMs);
  const onAbort = (): void => {
    if (!hasExited) cancelled = true;
    stop();
  };
  spec.signal?.addEventListener('abort', onAbort, { once: true });

  const [exitCode, signal] = await exited;
  clearTimeout(timer);

  // The child is gone, but a background process may still hold its pipes. Give them a moment to
  // close, then stop the group; a holder outside the group (setsid) makes us stop reading.
  let lingerTimer: NodeJS.Timeout | undefined;
  const lingered = await Promise.race([
    streamsDone.then(() => false),
    new Promise<boolean>((resolve) => {
      lingerTimer = setTimeout(() => resolve(true), spec.lingerMs);
    }),
  ]);
  clearTimeout(lingerTimer);
  let stoppedLeftovers = false;
  let abandonedPipes = false;
  if (lingered || groupAlive(pid)) {
    if (!stopping && groupAlive(pid)) stoppedLeftovers = true;
    stop();
  }
  const stopResult = stopping ? await stopping : undefined;
  if (lingered) {
    const closedAfterStop = await Promise.race([
      streamsDone.then(() => true),
      new Promise<boolean>((resolve) => {
        lingerTimer = setTimeout(() => resolve(false), spec.lingerMs);
      }),
    ]);
    clearTimeout(lingerTimer);
    if (!closedAfterStop) {
      abandonedPipes = true;
      stdout.destroy();
      stderr.destroy();
    }
  }
  spec.signal?.removeEventListener('abort', onAbort);
  watchdog.release();

  let end: RunEnd;
  if (timedOut) end = 'timeout';
  else if (cancelled) end = 'cancelled';
  else end = signal ? 'signaled' : 'exited';

  return {
    ...base,
    end,
    exitCode,
    signal,
    pid,
    stdout: stdoutCapture.finish(),
    stderr: stderrCapture.finish(),
    finishedAt: new Date(),
    escalatedToKill: stopResult === 'kill',
    stoppedLeftovers,
    abandonedPipes,
  };
}
