/**
 * Imported first by `procctl`: for a run that will execute in this process (`procctl run`, mock,
 * or `--placement in-process`), the handler's worker thread starts now, in parallel with loading
 * the rest of the CLI, so the run finds it ready instead of waiting for it. Any other command, and
 * a run placed elsewhere, starts nothing. The check reads argv loosely; a wrong guess costs only
 * an idle thread (which never keeps the process alive) or a thread started later, on demand.
 */
import { handlerPool } from '../execution/handler-pool.js';

function flag(argv: readonly string[], name: string): string | undefined {
  const at = argv.findIndex((arg) => arg === name || arg.startsWith(`${name}=`));
  if (at === -1) return undefined;
  const arg = argv[at] as string;
  return arg.includes('=') ? arg.slice(name.length + 1) : argv[at + 1];
}

const argv = process.argv.slice(2);
if (argv[0] === 'run') {
  const placement = flag(argv, '--placement') ?? 'auto';
  if (placement === 'in-process' || (placement === 'auto' && flag(argv, '--mode') !== 'real')) handlerPool().prestart();
}
