/** Every file under a directory, as paths relative to it, sorted; none when it does not exist. */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export function filesUnder(dir: string, base = dir): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? filesUnder(join(dir, d.name), base) : [join(dir, d.name).slice(base.length + 1)])).sort();
}
