/** `procctl ui`: the local web view (src/ui/server.ts) until Ctrl-C. */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ProcctlError } from '../contracts/errors.js';
import type { PlacementStatusProvider } from '../ui/deployments.js';

interface UiFlags {
  artifacts?: string;
  port: string;
  modalEnv: string[];
  context?: string;
  namespace?: string;
  kube?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** A kubeconfig is there the way kubectl finds one; checked without loading the Kubernetes client. */
function kubeconfigPresent(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env['KUBECONFIG'] || env['KUBERNETES_SERVICE_HOST'] || existsSync(join(env['HOME'] ?? homedir(), '.kube', 'config')));
}

/**
 * The panel's placements: local always; Modal for each `--modal-env`; Kubernetes for `--context` /
 * `--namespace`, else when a kubeconfig is present (unless `--no-kube`). The providers load their
 * SDKs only when the panel asks them.
 */
async function providersFor(flags: UiFlags): Promise<PlacementStatusProvider[]> {
  const [{ placementStatusProviders }, { kubernetesPlacementStatus, modalPlacementStatus }] = await Promise.all([import('../ui/deployments.js'), import('../ui/placement-providers.js')]);
  const list = [...placementStatusProviders()];
  if (flags.modalEnv.length > 0) {
    const { checkEnvironment } = await import('../modal/names.js');
    list.push(modalPlacementStatus(flags.modalEnv.map((env) => checkEnvironment(env))));
  }
  const asked = flags.context !== undefined || flags.namespace !== undefined;
  if (flags.kube !== false && (asked || kubeconfigPresent(process.env))) list.push(kubernetesPlacementStatus({ context: flags.context, namespace: flags.namespace }));
  return list;
}

export function registerUiCommand(program: Command): void {
  program
    .command('ui')
    .description('a local web view of the stored runs and started deployments, on 127.0.0.1 behind a token')
    .option('--artifacts <location>', 'artifact store: a directory or s3://bucket/prefix (env PROCCTL_ARTIFACTS)')
    .option('--port <port>', 'port on 127.0.0.1 (0 picks a free one)', '7070')
    .option('--modal-env <env>', 'also list the Modal deployments of this environment (repeatable; credentials as for modalctl)', collect, [])
    .option('--context <name>', 'kubeconfig context for the Kubernetes pods (default its current-context)')
    .option('--namespace <ns>', "namespace for the Kubernetes pods (default the context's, else default)")
    .option('--no-kube', 'do not list Kubernetes pods even when a kubeconfig is present')
    .action(async (flags: UiFlags) => {
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ProcctlError('ERR_USAGE', `--port ${flags.port} is not a port number (0–65535)`);
      const providers = await providersFor(flags);
      const [{ artifactsLocation, openStore }, { RunCatalog }, { startUiServer }] = await Promise.all([import('../api/store-from-location.js'), import('../runs/catalog.js'), import('../ui/server.js')]);
      const store = await openStore(artifactsLocation(flags.artifacts));
      const ui = await startUiServer({ catalog: new RunCatalog(store), port, providers }).catch((err: NodeJS.ErrnoException) => {
        throw new ProcctlError('ERR_USAGE', `cannot listen on 127.0.0.1:${port}: ${err.code ?? err.message}`, { port });
      });
      process.stdout.write(`procctl ui for ${store.location}\n${ui.url}\n`);
      await new Promise<void>((resolve) => {
        const stop = () =>
          void ui
            .close()
            .then(async () => {
              // Modal's gRPC channels keep the process alive; close them if the panel opened any.
              if (flags.modalEnv.length > 0) await (await import('../modal/deployments.js')).closeClients();
            })
            .then(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
