/** Small statistics and timing helpers shared by the benchmarks. */
import { spawnSync } from 'node:child_process';

export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export const median = (samples: number[]) => percentile(samples, 50);

/** Wall time of one whole process, in milliseconds; the process must succeed. */
export function timeProcess(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): number {
  const t0 = process.hrtime.bigint();
  const result = spawnSync(command, args, { stdio: 'ignore', ...options });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}`);
  return ms;
}

/** Prints one figure as `snake_case_name value`, the form `npm run bench` promises. */
export function report(name: string, value: number, digits = 2): void {
  console.log(`${name} ${Number(value.toFixed(digits))}`);
}

export const ratio = (a: number, b: number) => a / b;

/** A figure's samples under the name its median is printed as. */
export type Samples = [name: string, samples: number[]];

/**
 * A measurement against its baseline from the same run: the baseline's median, the measured
 * median, then `ratioName`, measured over baseline (above 1: slower than the baseline).
 */
export function reportRatio(ratioName: string, baseline: Samples, measured: Samples, digits = 1): void {
  report(baseline[0], median(baseline[1]), digits);
  report(measured[0], median(measured[1]), digits);
  report(ratioName, ratio(median(measured[1]), median(baseline[1])));
}
