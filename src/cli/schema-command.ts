/** `procctl schema [NAME] [--write DIR]`: the published JSON Schemas. */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ProcctlError } from '../contracts/errors.js';
import { EXPORTED_SCHEMAS } from '../api/exported-schemas.js';

export function registerSchemaCommand(program: Command): void {
  program
    .command('schema [name]')
    .description(`print a JSON Schema (${Object.keys(EXPORTED_SCHEMAS).join(', ')}), or write them all with --write`)
    .option('--write <dir>', 'write every schema file into DIR')
    .action((name: string | undefined, flags: { write?: string }) => {
      if (flags.write) {
        writeSchemas(flags.write);
        return;
      }
      const file = Object.keys(EXPORTED_SCHEMAS).find((f) => f === name || f.startsWith(`${name}.`));
      if (!file) throw new ProcctlError('ERR_USAGE', `no schema ${JSON.stringify(name ?? '')}; choose one of ${Object.keys(EXPORTED_SCHEMAS).join(', ')}`);
      process.stdout.write(`${JSON.stringify(EXPORTED_SCHEMAS[file as keyof typeof EXPORTED_SCHEMAS], null, 2)}\n`);
    });
}

/**
 * Writes every schema into `dir`, creating it. A `--write` target that is a file, or a folder that
 * cannot be written, is a usage error naming the path and the flag, never an internal one.
 */
function writeSchemas(dir: string): void {
  const refuse = (what: string) => new ProcctlError('ERR_USAGE', `--write ${dir}: ${what}; --write takes a directory to write the schema files into`, { flag: '--write', path: dir });
  let kind;
  try {
    kind = statSync(dir, { throwIfNoEntry: false });
  } catch {
    throw refuse('is under a file, not a directory');
  }
  if (kind && !kind.isDirectory()) throw refuse('is an existing file, not a directory');
  for (const [file, schema] of Object.entries(EXPORTED_SCHEMAS)) {
    try {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, file), `${JSON.stringify(schema, null, 2)}\n`);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw refuse(code === 'ENOTDIR' || code === 'EEXIST' ? 'is under a file, not a directory' : `${file} cannot be written (${code ?? (err as Error).message})`);
    }
  }
}
