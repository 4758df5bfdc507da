/** `procctl schema [NAME] [--write DIR]`: the published JSON Schemas. */
import { mkdirSync, writeFileSync } from 'node:fs';
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
        mkdirSync(flags.write, { recursive: true });
        for (const [file, schema] of Object.entries(EXPORTED_SCHEMAS)) writeFileSync(join(flags.write, file), `${JSON.stringify(schema, null, 2)}\n`);
        return;
      }
      const file = Object.keys(EXPORTED_SCHEMAS).find((f) => f === name || f.startsWith(`${name}.`));
      if (!file) throw new ProcctlError('ERR_USAGE', `no schema ${JSON.stringify(name ?? '')}; choose one of ${Object.keys(EXPORTED_SCHEMAS).join(', ')}`);
      process.stdout.write(`${JSON.stringify(EXPORTED_SCHEMAS[file as keyof typeof EXPORTED_SCHEMAS], null, 2)}\n`);
    });
}
