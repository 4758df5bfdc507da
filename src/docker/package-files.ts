/**
 * What of this package goes into a processor image: the compiled code, the built-in registry, and
 * the production dependency closure of node_modules (found by walking package.json
 * `dependencies`, as Node would resolve them) — no dev tools, no tests.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Manifest {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

const readManifest = (dir: string) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;

/** Node's lookup: the nearest node_modules/<name> walking up from `from`, within the package. */
function resolvePackageDir(name: string, from: string): string | undefined {
  const root = PACKAGE_ROOT.replace(/\/+$/, '');
  for (let dir = from.replace(/\/+$/, ''); dir === root || dir.startsWith(`${root}/`); dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
  }
  return undefined;
}

/** Package directories (relative to the package root) of every production dependency. */
/** Control-plane-only dependencies: nothing inside a container loads them (the Modal SDK, ~14 MB). */
const NOT_IN_IMAGES = new Set(['modal']);

export function productionDependencyDirs(root = PACKAGE_ROOT): string[] {
  const found = new Set<string>();
  const visit = (dir: string) => {
    const manifest = readManifest(dir);
    const names = [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.optionalDependencies ?? {})].filter((name) => dir !== root || !NOT_IN_IMAGES.has(name));
    for (const name of names) {
      const depDir = resolvePackageDir(name, dir);
      if (!depDir) {
        if (manifest.optionalDependencies?.[name] !== undefined) continue; // optional and absent: fine
        throw new Error(`dependency ${name} of ${relative(root, dir) || 'procctl'} is not installed; run npm ci`);
      }
      const rel = relative(root, depDir);
      if (found.has(rel)) continue;
      found.add(rel);
      visit(depDir);
    }
  };
  visit(root);
  // A nested package directory is copied with its parent; keep only the outermost.
  return [...found].sort().filter((dir, _, all) => !all.some((other) => other !== dir && dir.startsWith(`${other}/`)));
}

/** Paths (relative to the package root) an image needs besides node_modules. */
export const IMAGE_PACKAGE_PATHS = ['package.json', 'dist/src', 'dist/processors', 'processors'];
