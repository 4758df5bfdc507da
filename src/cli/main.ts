/**
 * Shared start of every bin: commander set up so that usage errors exit 2, help exits 0, and a
 * thrown ProcctlError prints `error CODE: message` with the table's exit code — never a stack.
 * `--version` prints the package version. When the command line has `--json`, a failure is also
 * printed as an error envelope on stdout, so a script reading JSON always gets JSON.
 */
import { Command, CommanderError } from 'commander';
import { canonicalJson } from '../contracts/canonical-json.js';
import { buildMeta, errorEnvelope } from '../contracts/envelope.js';
import { ERROR_CODES, ProcctlError, toProcctlError } from '../contracts/errors.js';
import { hostPlatform } from '../contracts/platform.js';
import { VERSION } from './version.js';

export { VERSION };

export function createProgram(name: string, description: string): Command {
  return new Command(name).description(description).version(VERSION).exitOverride().showHelpAfterError('(add --help for usage)');
}

export async function main(program: Command, argv: string[] = process.argv): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and --version "fail" with exit code 0; commander has already printed the message.
      process.exitCode = err.exitCode === 0 ? 0 : ERROR_CODES.ERR_USAGE.exitCode;
      if (err.exitCode !== 0) printJsonFailure(argv.slice(2), new ProcctlError('ERR_USAGE', err.message.replace(/^error: /, '')));
      return;
    }
    const failure = toProcctlError(err);
    process.stderr.write(`error ${failure.code}: ${failure.message}\n`);
    printJsonFailure(argv.slice(2), failure);
    process.exitCode = failure.exitCode;
  }
}

/** The value of `--name V` or `--name=V` among the arguments (before a `--`), if any. */
function flagValue(args: readonly string[], name: string): string | undefined {
  for (let i = 0; i < args.length && args[i] !== '--'; i++) {
    const arg = args[i] as string;
    if (arg === name) return args[i + 1];
    if (arg.startsWith(`${name}=`)) return arg.slice(name.length + 1);
  }
  return undefined;
}

function printJsonFailure(args: readonly string[], failure: ProcctlError): void {
  const end = args.indexOf('--');
  if (!(end === -1 ? args : args.slice(0, end)).includes('--json')) return;
  const envelope = errorEnvelope({
    executionId: flagValue(args, '--execution-id') ?? '',
    ref: flagValue(args, '--ref') ?? '',
    error: failure,
    meta: buildMeta({ mode: flagValue(args, '--mode') === 'real' ? 'real' : 'mock', imageDigest: null, platform: hostPlatform(), inputsHash: null, secretsPresent: [] }),
  });
  process.stdout.write(`${canonicalJson(envelope)}\n`);
}
