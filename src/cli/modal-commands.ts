/**
 * `modalctl start | sync-secrets | run | stop | status | logs` (also `procctl modal …`): processor
 * deployments on Modal, one named Sandbox per processor, mode and owner in the App `procctl-<env>`.
 * State lives on Modal (names and tags), so any shell or machine sees the same deployments.
 */
import { Option, type Command } from 'commander';
import { canonicalJson } from '../contracts/canonical-json.js';
import { ProcctlError } from '../contracts/errors.js';
import type { Mode } from '../contracts/inputs.js';
import { Registry } from '../registry/registry.js';
import { printStatus, shortHash } from './print.js';
import { addRunOptions, type RunFlags } from './run-command.js';
import { terminalProgress } from './terminal-progress.js';

// The Modal SDK loads inside each action: `--help` and mock `procctl run` never pay for it.
const modal = () => import('../modal/deployments.js');
const progress = (message: string) => process.stderr.write(`${message}\n`);
const modeOption = (description: string) => new Option('--mode <mode>', description).choices(['mock', 'real']);
const envOption = () => new Option('--env <env>', 'the Modal environment (its App is procctl-<env>)').makeOptionMandatory();

/** Runs an action and closes the Modal clients after, so the CLI exits as soon as it is done. */
const closing = <A extends unknown[]>(action: (...args: A) => Promise<void>) => async (...args: A) => {
  try {
    await action(...args);
  } finally {
    await (await modal()).closeClients();
  }
};

async function checkedEnv(env: string): Promise<string> {
  const { checkEnvironment } = await import('../modal/names.js');
  return checkEnvironment(env);
}

export function registerModalCommands(parent: Command): void {
  parent
    .command('start')
    .description('deploy a processor as a named Modal Sandbox from its pinned image and wait until it is healthy (mock: no outbound network, no secrets; real: mounts the synced Modal Secret)')
    .requiredOption('--ref <ref>', 'processor reference, ns/name@N')
    .addOption(envOption())
    .addOption(modeOption('which runs it serves').default('mock'))
    .option('--oci <image>', "image by digest, REPOSITORY@sha256:…, instead of the registry's pin")
    .option('--registry-secret <name>', 'Modal Secret with credentials for a private image registry')
    .option('--ttl <duration>', 'lifetime, then Modal ends it: seconds or 30m, 2h (max 24h; default 1h)')
    .option('--registry <dir>', 'registry directory (env PROCCTL_REGISTRY)')
    .option('--json', 'print the deployment as JSON')
    .action(
      closing(async (flags: { ref: string; env: string; mode: Mode; oci?: string; registrySecret?: string; ttl?: string; registry?: string; json?: boolean }) => {
        // The SDK is large: its load overlaps the registry's parsing.
        const loading = modal();
        void import('../modal/sdk.js').then((sdk) => sdk.loadModal()).catch(() => undefined);
        const env = await checkedEnv(flags.env);
        const snapshot = Registry.fromOptions(flags.registry).snapshot(flags.ref);
        const { parseTtl, startDeployment } = await loading;
        // Milestones on stderr; on a terminal, also the wait for the sandbox's /healthz.
        const live = terminalProgress({ json: flags.json ?? false });
        const d = await startDeployment({ snapshot, env, mode: flags.mode, progress: live.progress, ...(flags.oci !== undefined && { oci: flags.oci }), ...(flags.registrySecret !== undefined && { registrySecret: flags.registrySecret }), ...(flags.ttl !== undefined && { ttlS: parseTtl(flags.ttl) }) }).finally(live.end);
        const shown = { name: d.name, app: d.app, env: d.env, ref: d.ref, mode: d.mode, digest: d.digest, sandbox_id: d.sandboxId, url: d.url, created: d.created, expires: d.expires, reused: d.reused };
        process.stdout.write(flags.json ? `${canonicalJson(shown)}\n` : `${d.reused ? 'running' : 'started'} ${d.name} (${d.ref}, ${d.mode}) in ${d.app} [${d.env}] at ${d.url}, expires ${d.expires}\n`);
      }),
    );

  parent
    .command('sync-secrets')
    .description("create or overwrite the processor's Modal Secret from this shell's values of its declared secrets (prints names only)")
    .requiredOption('--ref <ref>', 'processor reference, ns/name@N')
    .addOption(envOption())
    .option('--registry <dir>', 'registry directory (env PROCCTL_REGISTRY)')
    .action(
      closing(async (flags: { ref: string; env: string; registry?: string }) => {
        const env = await checkedEnv(flags.env);
        const snapshot = Registry.fromOptions(flags.registry).snapshot(flags.ref);
        const { syncSecrets } = await modal();
        const { secret, keys } = await syncSecrets({ snapshot, env });
        process.stdout.write(`synced Modal Secret ${secret} in ${env}: ${keys.join(', ')}\n`);
      }),
    );

  addRunOptions(parent.command('run').description('run a processor in its started deployment (modalctl start first)'))
    .addOption(envOption())
    .action(async (flags: RunFlags & { env: string }) => {
      const { runAction } = await import('./run-action.js');
      process.exitCode = await runAction({ ...flags, adapter: 'modal' });
    });

  parent
    .command('stop')
    .description('end deployments: of one processor in an environment (both modes unless --mode), or --all in the environment')
    .option('--ref <ref>', 'processor reference, ns/name@N')
    .addOption(envOption())
    .addOption(modeOption('only the deployment serving this mode (default: both)'))
    .option('--all', 'every running procctl deployment in the environment')
    .option('--registry <dir>', 'registry directory (env PROCCTL_REGISTRY)')
    .action(
      closing(async (flags: { ref?: string; env: string; mode?: Mode; all?: boolean; registry?: string }) => {
        const env = await checkedEnv(flags.env);
        const { listDeployments, stopDeployments } = await modal();
        let stopped: string[] = [];
        if (flags.all) {
          const { stopSandbox } = await modal();
          for (const row of (await listDeployments(env)).filter((r) => r.state === 'running')) {
            await stopSandbox(env, row.sandbox_id);
            stopped.push(row.name);
          }
        } else if (flags.ref) {
          const snapshot = Registry.fromOptions(flags.registry).snapshot(flags.ref);
          stopped = await stopDeployments({ snapshot, env, ...(flags.mode && { mode: flags.mode }) });
        } else throw new ProcctlError('ERR_USAGE', 'stop needs --ref REF or --all');
        for (const name of stopped) progress(`stopped ${name}`);
        if (stopped.length === 0) progress('nothing was running');
      }),
    );

  parent
    .command('status')
    .description('list the procctl deployments in a Modal environment: running, expired, stopped or exited')
    .addOption(envOption())
    .option('--json', 'machine-readable output')
    .action(
      closing(async (flags: { env: string; json?: boolean }) => {
        const env = await checkedEnv(flags.env);
        const { listDeployments } = await modal();
        printStatus(await listDeployments(env), {
          json: flags.json ?? false,
          none: `no procctl deployments in ${env}`,
          header: ['NAME', 'REF', 'ENV', 'MODE', 'STATE', 'DIGEST', 'SANDBOX', 'CREATED', 'EXPIRES'],
          cells: (r) => [r.name, r.ref, r.env, r.mode, r.state, shortHash(r.digest), r.sandbox_id, r.created, r.expires],
        });
      }),
    );

  parent
    .command('logs')
    .description("print a deployment's logs (also after it ended)")
    .requiredOption('--ref <ref>', 'processor reference, ns/name@N')
    .addOption(envOption())
    .addOption(modeOption('which deployment').default('mock'))
    .option('-f, --follow', 'keep printing until the sandbox ends')
    .option('--tail <lines>', 'only the last N lines (default 1000)')
    .option('--registry <dir>', 'registry directory (env PROCCTL_REGISTRY)')
    .action(
      closing(async (flags: { ref: string; env: string; mode: Mode; follow?: boolean; tail?: string; registry?: string }) => {
        const tail = flags.tail === undefined ? undefined : Number(flags.tail);
        if (tail !== undefined && (!Number.isInteger(tail) || tail < 0 || tail > 20_000)) throw new ProcctlError('ERR_USAGE', `--tail ${flags.tail} is not a whole number up to 20000`);
        const env = await checkedEnv(flags.env);
        const snapshot = Registry.fromOptions(flags.registry).snapshot(flags.ref);
        const { writeSandboxLogs } = await modal();
        await writeSandboxLogs({ snapshot, env, mode: flags.mode }, { follow: flags.follow ?? false, ...(tail !== undefined && { tail }) }, process.stdout, process.stderr, progress);
      }),
    );
}
