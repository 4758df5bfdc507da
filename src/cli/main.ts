/**
 * Shared start of every bin: commander set up so that usage errors exit 2, help exits 0, and a
 * thrown ProcctlError prints `error CODE: message` with the table's exit code — never a stack.
 */
import { Command, CommanderError } from 'commander';
import { ERROR_CODES, toProcctlError } from '../contracts/errors.js';

export const VERSION = '0.1.0';

export function createProgram(name: string, description: string): Command {
  return new Command(name).description(description).version(VERSION).exitOverride().showHelpAfterError('(add --help for usage)');
}

export async function main(program: Command, argv: string[] = process.argv): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : ERROR_CODES.ERR_USAGE.exitCode;
      return;
    }
    const failure = toProcctlError(err);
    process.stderr.write(`error ${failure.code}: ${failure.message}\n`);
    process.exitCode = failure.exitCode;
  }
}
