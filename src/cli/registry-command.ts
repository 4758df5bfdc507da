/** `procctl registry list | show REF | validate`. */
import type { Command } from 'commander';
import { canonicalJson } from '../contracts/canonical-json.js';
import { ERROR_CODES } from '../contracts/errors.js';
import { Registry } from '../registry/registry.js';

export function registerRegistryCommand(program: Command): void {
  const registry = program.command('registry').description('inspect and check the processor registry').option('--registry <dir>', 'registry directory (env PROCCTL_REGISTRY)');
  const open = () => Registry.fromOptions(registry.opts<{ registry?: string }>().registry);

  registry
    .command('list')
    .description('list processors')
    .option('--json', 'machine-readable output')
    .action((flags: { json?: boolean }) => {
      // A broken entry is reported (file and field) and makes the exit status say so; it never
      // hides the good ones.
      const reg = open();
      const { entries, problems } = reg.scan();
      for (const p of problems) process.stderr.write(`error ${p.code}: ${p.message}\n`);
      // Problems name files relative to the registry folder (so envelopes are the same on every
      // host); a person still needs to know where to open them.
      if (problems.length > 0) {
        process.stderr.write(`(files are in the registry folder ${reg.dir})\n`);
        process.exitCode = ERROR_CODES.ERR_REGISTRY_INVALID.exitCode;
      }
      if (flags.json) {
        process.stdout.write(`${canonicalJson(entries.map((e) => ({ ref: e.ref, title: e.title ?? null, digests: e.image.digests })))}\n`);
        return;
      }
      for (const e of entries) {
        const pins = Object.keys(e.image.digests);
        process.stdout.write(`${e.ref.padEnd(24)} ${(e.title ?? '').padEnd(32)} ${pins.length ? pins.join(',') : 'unpinned'}\n`);
      }
    });

  registry
    .command('show <ref>')
    .description('print the registry snapshot of one processor as JSON')
    .action((ref: string) => {
      process.stdout.write(`${JSON.stringify(open().snapshot(ref), null, 2)}\n`);
    });

  registry
    .command('validate')
    .description('check every registry entry and load its handler; exit non-zero on any problem')
    .action(async () => {
      const reg = open();
      const { validateRegistry } = await import('../api/validate-registry.js');
      const { checked, problems } = await validateRegistry(reg);
      for (const p of problems) process.stderr.write(`error ${p.code}: ${p.message}\n`);
      process.stdout.write(`${checked - problems.length} of ${checked} entries valid in ${reg.dir}\n`);
      if (problems.length > 0) process.exitCode = ERROR_CODES.ERR_REGISTRY_INVALID.exitCode;
    });
}
