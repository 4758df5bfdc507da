/**
 * Start-up: the median wall time of the README's main command (`procctl run`, mock, in-process)
 * as a ratio to `node -e 0`, both measured here, interleaved, so machine noise hits both alike.
 * Goal (issue: foundation): median_ratio <= 3.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, ratio, report, timeProcess } from './stats.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 30);
const bin = fileURLToPath(new URL('../src/cli/procctl.js', import.meta.url));
const cwd = mkdtempSync(join(tmpdir(), 'procctl-bench-'));
const main = [bin, 'run', '--ref', 'llm/litellm@1', '--inputs-json', '{"schema":"v1","params":{"messages":[{"role":"user","content":"Hello"}]}}', '--json'];

// One untimed run of each fills the OS page cache and procctl's validator cache, as any
// second use on a developer's machine would have.
timeProcess(process.execPath, ['-e', '0']);
timeProcess(process.execPath, main, { cwd });

const nodeTimes: number[] = [];
const mainTimes: number[] = [];
for (let i = 0; i < RUNS; i++) {
  nodeTimes.push(timeProcess(process.execPath, ['-e', '0']));
  mainTimes.push(timeProcess(process.execPath, main, { cwd }));
}
report('node_e0_median_ms', median(nodeTimes), 1);
report('main_command_median_ms', median(mainTimes), 1);
report('median_ratio', ratio(median(mainTimes), median(nodeTimes)));
