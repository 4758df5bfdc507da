// A command group must not outlive its executor: a `kill -9` of the executor skips every cleanup
// it would do. So each group gets a watchdog, a tiny separate process holding a pipe from the
// executor. The kernel closes that pipe when the executor dies, however it dies; the watchdog then
// SIGKILLs the group. When the executor finishes normally it says "done" first and the watchdog
// leaves quietly. It is its own process group, so a signal to the command group cannot stop it.
import { spawn, type ChildProcess } from 'node:child_process';

const WATCHDOG_SOURCE = `
const pgid = Number(process.argv[1]);
let done = false;
process.stdin.on('data', (chunk) => { if (String(chunk).includes('done')) done = true; });
const end = () => {
  if (!done) { try { process.kill(-pgid, 'SIGKILL'); } catch {} }
  process.exit(0);
};
process.stdin.on('end', end);
process.stdin.on('error', end);
`;

export interface Watchdog {
  /** The executor is finishing on its own: the watchdog exits without killing anything. */
  release(): void;
}

/** `pgid` undefined: the spawn failed at once, and there is nothing to watch. */
export function watchGroup(pgid: number | undefined): Watchdog {
  let dog: ChildProcess | undefined;
  if (pgid === undefined) return { release: () => undefined };
  try {
    dog = spawn(process.execPath, ['-e', WATCHDOG_SOURCE, String(pgid)], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    dog.on('error', () => undefined);
    dog.stdin?.on('error', () => undefined);
    // Neither the watchdog nor its pipe may keep the executor alive.
    dog.unref();
    (dog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  } catch {
    dog = undefined; // no watchdog is no worse than before; the run itself goes on
  }
  return {
    release() {
      dog?.stdin?.end('done\n');
    },
  };
}
