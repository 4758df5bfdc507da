/**
 * The version every bin prints for `--version`: the package's own, read from its package.json
 * (two folders above dist/src/cli), so it can never drift from what was installed. Kept apart from
 * main.ts so the lean bins (procctl-runtime, llmctl-executor) get it without loading commander.
 */
import { readFileSync } from 'node:fs';

export const VERSION: string = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** True when the arguments ask for the version alone (`--version` or `-V`, as commander has it). */
export function asksForVersion(args: readonly string[]): boolean {
  return args.length === 1 && (args[0] === '--version' || args[0] === '-V');
}
