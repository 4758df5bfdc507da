/**
 * `procctl kube start | sync-secrets | run | stop | status | logs`: long-lived processor pods on a
 * Kubernetes cluster, mirroring localctl. State lives in the cluster (labels and annotations), so
 * any shell sees the same pods. The Kubernetes client loads inside each action.
 */
import { Option, type Command } from 'commander';
import { canonicalJson } from '../contracts/canonical-json.js';
import { ProcctlError } from '../contracts/errors.js';
import type { Mode } from '../contracts/inputs.js';
import { Registry } from '../registry/registry.js';
import { printStatus, shortHash } from './print.js';
import { addRunOptions, type RunFlags } from './run-command.js';
import { terminalProgress } from './terminal-progress.js';

const processors = () => import('../kubernetes/processors.js');
const cluster = async (flags: ClusterFlags) => (await import('../kubernetes/client.js')).connectCluster(flags);

interface ClusterFlags {
  context?: string;
  namespace?: string;
}

const progress = (message: string) => process.stderr.write(`${message}\n`);
const modeOption = (description: string) => new Option('--mode <mode>', description).choices(['mock', 'real']);
const withCluster = (command: Command): Command =>
  command.option('--context <name>', 'kubeconfig context (default its current-context)').option('--namespace <ns>', "namespace (default the context's, else default)");

export function registerKubeCommands(parent: Command): void {
  withCluster(
    parent
      .command('start')
      .description('start a pod running the pinned image (mock: no secrets, egress denied where NetworkPolicy is enforced; real: secrets from the synced Secret)')
      .requiredOption('--ref <ref>', 'processor reference, ns/name@N')
      .addOption(modeOption('which runs it serves').default('mock'))
      .option('--registry <dir>', 'registry directory (env PROCCTL_REGISTRY)')
      .option('--json', 'print the pod as JSON'),
  ).action(async (flags: ClusterFlags & { ref: string; mode: Mode; registry?: string; json?: boolean }) => {
    const snapshot = Registry.fromOptions(flags.registry).snapshot(flags.ref);
    const { startProcessorPod } = await processors();
    const c = await cluster(flags);
    // Milestones on stderr; on a terminal, also the pod's phase while it starts.
    const live = terminalProgress({ json: flags.json ?? false });
    const pod = await startProcessorPod(c, { snapshot, mode: flags.mode, progress: live.progress }).finally(live.end);
    const shown = { name: pod.name, namespace: c.namespace, ref: pod.ref, mode: pod.mode, digest: pod.digest, node: pod.node, reused: pod.reused };
    process.stdout.write(flags.json ? `${canonicalJson(shown)}\n` : `${pod.reused ? 'running' : 'started'} pod ${c.namespace}/${pod.name} (${pod.ref}, ${pod.mode}) on node ${pod.node}\n`);
  });

  withCluster(
    parent
      .command('sync-secrets')
      .description("copy the processor's declared secrets from this environment into its Kubernetes Secret (names are printed, never values)")
      .requiredOption('--ref <ref>', 'processor reference, ns/name@N')
      .option('--registry <dir>', 'registry directory (env PROCCTL_REGISTRY)'),
  ).action(async (flags: ClusterFlags & { ref: string; registry?: string }) => {
    const snapshot = Registry.fromOptions(flags.registry).snapshot(flags.ref);
    const { syncSecrets, syncedSecretName } = await processors();
    const c = await cluster(flags);
    const names = await syncSecrets(c, snapshot, process.env);
    process.stdout.write(`Secret ${c.namespace}/${syncedSecretName(snapshot.slug)} holds: ${names.join(', ') || '(none of the declared secrets is set here)'}\n`);
  });

  withCluster(addRunOptions(parent.command('run').description('run a processor in its started pod (procctl kube start first)'))).action(async (flags: RunFlags) => {
    const { runAction } = await import('./run-action.js');
    process.exitCode = await runAction({ ...flags, adapter: 'kubernetes' });
  });

  withCluster(
    parent
      .command('stop')
      .description('delete started processor pods and their token Secrets (the synced secrets stay)')
      .option('--ref <ref>', 'processor reference, ns/name@N')
      .addOption(modeOption('only the pod serving this mode (default: both)'))
      .option('--all', 'every processor pod procctl manages in the namespace')
      .option('--grace <seconds>', 'seconds between SIGTERM and SIGKILL', '10')
      .option('--registry <dir>', 'registry directory (env PROCCTL_REGISTRY)'),
  ).action(async (flags: ClusterFlags & { ref?: string; mode?: Mode; all?: boolean; grace: string; registry?: string }) => {
    const grace = Number(flags.grace);
    if (!Number.isInteger(grace) || grace < 0) throw new ProcctlError('ERR_USAGE', `--grace ${flags.grace} is not a whole number of seconds`);
    const { deleteProcessorPod, listProcessorPods, processorPodName } = await processors();
    const c = await cluster(flags);
    let targets: Array<{ slug: string; mode: Mode }>;
    if (flags.all) targets = (await listProcessorPods(c)).map((p) => ({ slug: p.slug, mode: p.mode }));
    else if (flags.ref) {
      const { slug } = Registry.fromOptions(flags.registry).snapshot(flags.ref);
      targets = (flags.mode ? [flags.mode] : (['mock', 'real'] as Mode[])).map((mode) => ({ slug, mode }));
    } else throw new ProcctlError('ERR_USAGE', 'stop needs --ref REF or --all');
    let stopped = 0;
    for (const { slug, mode } of targets) {
      if (!(await deleteProcessorPod(c, slug, mode, grace))) continue;
      stopped++;
      progress(`stopped pod ${c.namespace}/${processorPodName(slug, mode)}`);
    }
    if (stopped === 0) progress('nothing was running');
  });

  withCluster(parent.command('status').description('list the processor pods procctl manages in the namespace').option('--json', 'machine-readable output')).action(
    async (flags: ClusterFlags & { json?: boolean }) => {
      const { listProcessorPods } = await processors();
      printStatus(await listProcessorPods(await cluster(flags)), {
        json: flags.json ?? false,
        none: 'no procctl pods',
        header: ['NAME', 'REF', 'MODE', 'PHASE', 'READY', 'NODE', 'DIGEST'],
        cells: (r) => [r.name, r.ref, r.mode, r.problem ? `${r.phase} (${r.problem})` : r.phase, String(r.ready), r.node || '-', shortHash(r.digest)],
      });
    },
  );

  withCluster(
    parent
      .command('logs')
      .description("print a started pod's runtime log (also after it ended, until procctl kube stop deletes it)")
      .requiredOption('--ref <ref>', 'processor reference, ns/name@N')
      .addOption(modeOption('which pod').default('mock'))
      .option('--tail <lines>', 'only the last N lines')
      .option('--registry <dir>', 'registry directory (env PROCCTL_REGISTRY)'),
  ).action(async (flags: ClusterFlags & { ref: string; mode: Mode; tail?: string; registry?: string }) => {
    const tail = flags.tail === undefined ? undefined : Number(flags.tail);
    if (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) throw new ProcctlError('ERR_USAGE', `--tail ${flags.tail} is not a whole number`);
    const snapshot = Registry.fromOptions(flags.registry).snapshot(flags.ref);
    const { findProcessorPod, podLog, podNotStarted } = await processors();
    const c = await cluster(flags);
    const found = await findProcessorPod(c, snapshot.slug, flags.mode);
    if (!found) throw podNotStarted(snapshot.ref, flags.mode, c);
    if (found.failure) progress(`${found.handle.name}: ${found.failure.message}; its log up to then:`);
    process.stdout.write(await podLog(c, found.handle.name, tail));
  });
}
