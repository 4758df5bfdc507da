/**
 * `localctl start | run | stop | status | logs` (also `procctl local …`): long-lived processor
 * containers on the local Docker engine. State lives in the engine (labels), so any shell sees the
 * same containers.
 */
import { Option, type Command } from 'commander';
import { canonicalJson } from '../contracts/canonical-json.js';
import { ProcctlError } from '../contracts/errors.js';
import type { Mode } from '../contracts/inputs.js';
import { Registry } from '../registry/registry.js';
import { printStatus, shortHash } from './print.js';
import { addRunOptions, type RunFlags } from './run-command.js';
import { terminalProgress } from './terminal-progress.js';

// The Docker client and container code load inside each action: start-up time is measured.
const containers = () => import('../docker/containers.js');

const progress = (message: string) => process.stderr.write(`${message}\n`);
const modeOption = (description: string) => new Option('--mode <mode>', description).choices(['mock', 'real']);

export function registerLocalCommands(parent: Command): void {
  parent
    .command('start')
    .description('pull the pinned image and start a container (mock: no network, no secrets; real: declared secrets from this environment)')
    .requiredOption('--ref <ref>', 'processor reference, ns/name@N')
    .addOption(modeOption('which runs it serves').default('mock'))
    .option('--registry <dir>', 'registry directory (env PROCCTL_REGISTRY)')
    .option('--json', 'print the container as JSON')
    .action(async (flags: { ref: string; mode: Mode; registry?: string; json?: boolean }) => {
      const snapshot = Registry.fromOptions(flags.registry).snapshot(flags.ref);
      const { startContainer } = await containers();
      const live = terminalProgress({ json: flags.json ?? false });
      const handle = await startContainer({ snapshot, mode: flags.mode, scope: 'started', progress: live.progress }).finally(live.end);
      const shown = { name: handle.name, ref: handle.ref, mode: handle.mode, digest: handle.digest, endpoint: handle.endpoint, reused: handle.reused };
      process.stdout.write(flags.json ? `${canonicalJson(shown)}\n` : `${handle.reused ? 'running' : 'started'} ${handle.name} (${handle.ref}, ${handle.mode}) at ${handle.endpoint}\n`);
    });

  addRunOptions(parent.command('run').description('run a processor in its started container (localctl start first)')).action(async (flags: RunFlags) => {
    const { runAction } = await import('./run-action.js');
    process.exitCode = await runAction({ ...flags, adapter: 'local', placement: 'container' });
  });

  parent
    .command('stop')
    .description('stop and remove started containers: SIGTERM, then SIGKILL after the grace period')
    .option('--ref <ref>', 'processor reference, ns/name@N')
    .addOption(modeOption('only the container serving this mode (default: both)'))
    .option('--all', 'every container procctl manages')
    .option('--grace <seconds>', 'seconds between SIGTERM and SIGKILL', '10')
    .option('--registry <dir>', 'registry directory (env PROCCTL_REGISTRY)')
    .action(async (flags: { ref?: string; mode?: Mode; all?: boolean; grace: string; registry?: string }) => {
      const grace = Number(flags.grace);
      if (!Number.isFinite(grace) || grace < 0) throw new ProcctlError('ERR_USAGE', `--grace ${flags.grace} is not a number of seconds`);
      const { listManaged, removeContainer } = await containers();
      const { startedContainerName } = await import('../docker/labels.js');
      const { dropStartedEntry } = await import('../docker/started-cache.js');
      let names: string[];
      if (flags.all) names = (await listManaged()).map((c) => c.name);
      else if (flags.ref) {
        const { slug } = Registry.fromOptions(flags.registry).snapshot(flags.ref);
        names = (flags.mode ? [flags.mode] : (['mock', 'real'] as Mode[])).map((m) => startedContainerName(slug, m));
      } else throw new ProcctlError('ERR_USAGE', 'stop needs --ref REF or --all');
      let stopped = 0;
      for (const name of names) {
        dropStartedEntry(name);
        if (!(await removeContainer(name, grace))) continue;
        stopped++;
        progress(`stopped ${name}`);
      }
      if (stopped === 0) progress('nothing was running');
    });

  parent
    .command('status')
    .description('list the containers procctl manages')
    .option('--json', 'machine-readable output')
    .action(async (flags: { json?: boolean }) => {
      const { listManaged } = await containers();
      printStatus(await listManaged(), {
        json: flags.json ?? false,
        none: 'no procctl containers',
        header: ['NAME', 'REF', 'MODE', 'STATE', 'DIGEST', 'ENDPOINT'],
        cells: (r) => [r.name, r.ref, r.mode, `${r.state} (${r.status})`, shortHash(r.digest), r.endpoint || '-'],
      });
    });

  parent
    .command('logs')
    .description("print a started container's logs (also after it stopped, until localctl stop removes it)")
    .requiredOption('--ref <ref>', 'processor reference, ns/name@N')
    .addOption(modeOption('which container').default('mock'))
    .option('-f, --follow', 'keep printing until the container stops')
    .option('--tail <lines>', 'only the last N lines')
    .option('--registry <dir>', 'registry directory (env PROCCTL_REGISTRY)')
    .action(async (flags: { ref: string; mode: Mode; follow?: boolean; tail?: string; registry?: string }) => {
      const tail = flags.tail === undefined ? undefined : Number(flags.tail);
      if (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) throw new ProcctlError('ERR_USAGE', `--tail ${flags.tail} is not a whole number`);
      const snapshot = Registry.fromOptions(flags.registry).snapshot(flags.ref);
      const { findStarted, notRunningError } = await containers();
      const { writeLogs } = await import('../docker/logs.js');
      // A container that stopped (crashed, OOM-killed) keeps its logs until `localctl stop` removes it.
      const handle = await findStarted(snapshot, flags.mode);
      if (!handle) throw notRunningError(snapshot.ref, flags.mode);
      if (!handle.running) progress(`${handle.name} is not running; its logs up to when it stopped:`);
      await writeLogs(handle.id, { follow: flags.follow ?? false, ...(tail !== undefined && { tail }) }, process.stdout, process.stderr);
    });
}
