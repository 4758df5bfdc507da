/**
 * Imported first by `procctl`: for a run that will execute in this process (`procctl run`, mock,
 * or `--placement in-process`), the handler's worker thread starts now, in parallel with loading
 * the rest of the CLI, so the run finds it ready instead of waiting for it. Any other command, and
 * a run placed elsewhere, starts nothing. The check reads argv loosely; a wrong guess costs only
 * an idle thread (which never keeps the process alive) or a thread started later, on demand.
 */
import { handlerPool } from '../execution/handler-pool.js';
import { parseRef } from '../registry/ref.js';

function flag(argv: readonly string[], name: string): string | undefined {
  const at = argv.findIndex((arg) => arg === name || arg.startsWith(`${name}=`));
  if (at === -1) return undefined;
  const arg = argv[at] as string;
  return arg.includes('=') ? arg.slice(name.length + 1) : argv[at + 1];
}

/** The processor the run names, so its module loads in the thread while the CLI loads; a bad ref is the run's to report. */
function likelyProcessor(argv: readonly string[]): { slug: string; registryDir?: string } | undefined {
  try {
    const { slug } = parseRef(flag(argv, '--ref') ?? '');
    const registryDir = flag(argv, '--registry') ?? process.env['PROCCTL_REGISTRY'];
    return { slug, ...(registryDir !== undefined && { registryDir }) };
  } catch {
    return undefined;
  }
}

const argv = process.argv.slice(2);
if (argv[0] === 'run') {
  const placement = flag(argv, '--placement') ?? 'auto';
  if (placement === 'in-process' || (placement === 'auto' && flag(argv, '--mode') !== 'real')) handlerPool().prestart(likelyProcessor(argv));
}
