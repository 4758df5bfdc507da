/** `procctl ui`: the local web view (src/ui/server.ts) until Ctrl-C. */
import type { Command } from 'commander';
import { ProcctlError } from '../contracts/errors.js';

export function registerUiCommand(program: Command): void {
  program
    .command('ui')
    .description('a local web view of the stored runs and started deployments, on 127.0.0.1 behind a token')
    .option('--artifacts <location>', 'artifact store: a directory or s3://bucket/prefix (env PROCCTL_ARTIFACTS)')
    .option('--port <port>', 'port on 127.0.0.1 (0 picks a free one)', '7070')
    .action(async (flags: { artifacts?: string; port: string }) => {
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ProcctlError('ERR_USAGE', `--port ${flags.port} is not a port number (0–65535)`);
      const [{ artifactsLocation, openStore }, { isListableStore }, { RunCatalog }, { startUiServer }] = await Promise.all([import('../api/store-from-location.js'), import('../artifacts/store.js'), import('../runs/catalog.js'), import('../ui/server.js')]);
      const store = await openStore(artifactsLocation(flags.artifacts));
      if (!isListableStore(store)) throw new ProcctlError('ERR_USAGE', `the store at ${store.location} cannot list its keys`);
      const ui = await startUiServer({ catalog: new RunCatalog(store), port }).catch((err: NodeJS.ErrnoException) => {
        throw new ProcctlError('ERR_USAGE', `cannot listen on 127.0.0.1:${port}: ${err.code ?? err.message}`, { port });
      });
      process.stdout.write(`procctl ui for ${store.location}\n${ui.url}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => void ui.close().then(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
