/**
 * llmctl-executor, from one run (both sides measured in the same run, interleaved):
 * - `process_time_ratio`: wall time of the executor running `true` (the whole process, payload
 *   via --payload-json) over a bare `node -e` that spawns `true` and waits (goal <= 1.5);
 * - `capture_throughput_ratio`: throughput of the executor capturing a child that writes 1 GiB to
 *   stdout over the same child piped into `cat >/dev/null` (goal >= 0.5). The executor's side is
 *   its capture phase, from spawning the child to the finished result (the result's own
 *   `metrics.duration_ms`); the `cat` side is the whole `bash -c 'head … | cat'` process, so
 *   the shell's start-up counts against cat. `capture_whole_process_ratio` is the same with the
 *   executor's ~60 ms Node start-up included;
 * plus the medians behind them and the executor's own peak RSS during the capture.
 * Prints `snake_case_name value` lines. BENCH_RUNS / BENCH_CAPTURE_RUNS change the run counts.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const PROCESS_RUNS = Number(process.env.BENCH_RUNS ?? 40);
const CAPTURE_RUNS = Number(process.env.BENCH_CAPTURE_RUNS ?? 5);
const GiB = 1024 ** 3;
const executor = fileURLToPath(new URL('../src/cli/llmctl-executor.js', import.meta.url));

/** Wall time in ms of one command, from spawn to exit; stdout is collected only when asked. */
function timed(file: string, args: readonly string[], keepStdout = false): Promise<{ ms: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(file, args, { stdio: ['ignore', keepStdout ? 'pipe' : 'ignore', 'inherit'] });
    const chunks: Buffer[] = [];
    child.stdout?.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (code !== 0) reject(new Error(`${file} ${args.join(' ').slice(0, 200)} exited ${code}`));
      else resolve({ ms, stdout: Buffer.concat(chunks).toString('utf8') });
    });
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const payload = (doc: Record<string, unknown>): string => JSON.stringify({ contract_version: 'v1', provider: 'workspace', ...doc });

// --- whole-process time ---------------------------------------------------------------------
const executorTrue = [process.execPath, [executor, '--payload-json', payload({ command: ['true'], emit_start_markers: false })]] as const;
const bareTrue = [process.execPath, ['-e', "require('node:child_process').spawn('true').on('exit', () => {})"]] as const;
for (let i = 0; i < 3; i++) {
  await timed(...executorTrue);
  await timed(...bareTrue);
}
const executorMs: number[] = [];
const bareMs: number[] = [];
for (let i = 0; i < PROCESS_RUNS; i++) {
  executorMs.push((await timed(...executorTrue)).ms);
  bareMs.push((await timed(...bareTrue)).ms);
}

// --- capture throughput ---------------------------------------------------------------------
const write1GiB = `head -c ${GiB} /dev/zero`;
const executorCapture = [process.execPath, [executor, '--payload-json', payload({ shell_command: write1GiB, emit_start_markers: false })]] as const;
const catCapture = ['bash', ['-c', `${write1GiB} | cat >/dev/null`]] as const;
const captureMs: number[] = [];
const capturePhaseMs: number[] = [];
const catMs: number[] = [];
let peakRss = 0;
for (let i = 0; i < CAPTURE_RUNS; i++) {
  const run = await timed(...executorCapture, true);
  captureMs.push(run.ms);
  const line = run.stdout.trimEnd().split('\n').at(-1) ?? '';
  const result = JSON.parse(line.slice('LLMCTL_EXECUTOR_RESULT_JSON='.length)) as {
    metrics: { stdout_bytes: number; executor_max_rss_bytes: number; duration_ms: number };
  };
  capturePhaseMs.push(result.metrics.duration_ms);
  if (result.metrics.stdout_bytes !== GiB) throw new Error(`executor counted ${result.metrics.stdout_bytes} bytes, not ${GiB}`);
  peakRss = Math.max(peakRss, result.metrics.executor_max_rss_bytes);
  catMs.push((await timed(...catCapture)).ms);
}

const lines: Array<[string, number]> = [
  ['process_time_ratio', median(executorMs) / median(bareMs)],
  ['executor_true_median_ms', median(executorMs)],
  ['node_spawn_true_median_ms', median(bareMs)],
  ['capture_throughput_ratio', median(catMs) / median(capturePhaseMs)],
  ['capture_whole_process_ratio', median(catMs) / median(captureMs)],
  ['executor_capture_gib_per_s', 1 / (median(capturePhaseMs) / 1000)],
  ['executor_whole_process_gib_per_s', 1 / (median(captureMs) / 1000)],
  ['cat_capture_gib_per_s', 1 / (median(catMs) / 1000)],
  ['executor_capture_peak_rss_mb', peakRss / 1024 / 1024],
];
for (const [name, value] of lines) console.log(`${name} ${value.toFixed(3)}`);
