/** `procctl images build --ref R`: build, push and pin a processor image. */
import type { Command } from 'commander';
import { hostPlatform } from '../contracts/platform.js';
import { Registry } from '../registry/registry.js';
import { terminalProgress } from './terminal-progress.js';

export function registerImagesCommand(program: Command): void {
  const images = program.command('images').description('processor images: build, push to the OCI registry, pin by digest');
  images
    .command('build')
    .description('build the image for a processor, push it to its repository and pin the digest in its registry entry')
    .requiredOption('--ref <ref>', 'processor reference, ns/name@N')
    .option('--registry <dir>', 'registry directory whose entry gets the pin (env PROCCTL_REGISTRY)')
    .option('--no-pin', 'build and push only; leave the registry entry as it is')
    .action(async (flags: { ref: string; registry?: string; pin: boolean }) => {
      const registry = Registry.fromOptions(flags.registry);
      const { buildAndPin } = await import('../docker/build-and-pin.js');
      const shown = terminalProgress();
      const result = await buildAndPin(registry, flags.ref, { pin: flags.pin, progress: shown.progress }).finally(shown.end);
      process.stdout.write(`${result.reference}\n`);
      if (flags.pin) process.stderr.write(`pinned ${hostPlatform()} in ${result.entryFile}\n`);
    });
}
