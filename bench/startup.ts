/**
 * Start-up: the median wall time of the README's main command (`procctl run`, mock, in-process)
 * as a ratio to `node -e 0`, both measured here, interleaved, so machine noise hits both alike.
 * Goal (issue 12): median_ratio <= 2 on Node 20 and on Node 24 (`npm run bench -- startup --node PATH`).
 *
 * Also what `NODE_EXTRA_CA_CERTS` costs this Node at boot (`extra_ca_certs_boot_ms`: `node -e 0`
 * with it set to a CA bundle minus without, the same pair interleaved), and whether the main
 * command pays any more than that (`extra_ca_certs_main_ms`, the same difference for the main
 * command; procctl loads no certificates, so it is the boot cost again, or noise). The bundle is
 * the machine's own `NODE_EXTRA_CA_CERTS`, else Debian's /etc/ssl/certs/ca-certificates.crt.
 * Both ratios above use the environment as it is (with the machine's setting, if any).
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, report, reportRatio, timeProcess } from './stats.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 30);
const bin = fileURLToPath(new URL('../src/cli/procctl.js', import.meta.url));
const cwd = mkdtempSync(join(tmpdir(), 'procctl-bench-'));
const main = [bin, 'run', '--ref', 'llm/litellm@1', '--inputs-json', '{"schema":"v1","params":{"messages":[{"role":"user","content":"Hello"}]}}', '--json'];
const bundle = process.env['NODE_EXTRA_CA_CERTS'] ?? '/etc/ssl/certs/ca-certificates.crt';
const withCa = { ...process.env, NODE_EXTRA_CA_CERTS: bundle };
const withoutCa = { ...process.env };
delete withoutCa['NODE_EXTRA_CA_CERTS'];

// One untimed run of each fills the OS page cache, procctl's validator cache and Node's compile
// cache, as any second use on a developer's machine would have.
timeProcess(process.execPath, ['-e', '0']);
timeProcess(process.execPath, main, { cwd });

const nodeTimes: number[] = [];
const mainTimes: number[] = [];
for (let i = 0; i < RUNS; i++) {
  nodeTimes.push(timeProcess(process.execPath, ['-e', '0']));
  mainTimes.push(timeProcess(process.execPath, main, { cwd }));
}
report('node_version_major', Number(process.versions.node.split('.')[0]), 0);
reportRatio('median_ratio', ['node_e0_median_ms', nodeTimes], ['main_command_median_ms', mainTimes]);
report('extra_ca_certs_set', process.env['NODE_EXTRA_CA_CERTS'] === undefined ? 0 : 1, 0);

if (existsSync(bundle)) {
  const boot = { with: [] as number[], without: [] as number[] };
  const full = { with: [] as number[], without: [] as number[] };
  for (let i = 0; i < RUNS; i++) {
    boot.with.push(timeProcess(process.execPath, ['-e', '0'], { env: withCa }));
    boot.without.push(timeProcess(process.execPath, ['-e', '0'], { env: withoutCa }));
    full.with.push(timeProcess(process.execPath, main, { cwd, env: withCa }));
    full.without.push(timeProcess(process.execPath, main, { cwd, env: withoutCa }));
  }
  report('extra_ca_certs_boot_ms', median(boot.with) - median(boot.without), 1);
  report('extra_ca_certs_main_ms', median(full.with) - median(full.without), 1);
  reportRatio('median_ratio_without_ca', ['node_e0_without_ca_median_ms', boot.without], ['main_command_without_ca_median_ms', full.without]);
}
