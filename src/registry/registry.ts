/**
 * The registry: a directory with one folder per processor version, `<slug>/registry.yaml`. A run
 * reads only the one file it needs; listing and validation read them all.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canonicalContentId } from '../contracts/content-id.js';
import { ProcctlError } from '../contracts/errors.js';
import { readEntryFile, type RegistryEntry } from './entry.js';
import { parseRef, type ProcessorRef } from './ref.js';

export const ENTRY_FILE = 'registry.yaml';

/** The processors that ship with procctl: `<package>/processors`. */
export const BUILTIN_REGISTRY_DIR = fileURLToPath(new URL('../../../processors/', import.meta.url));

/** A registry entry resolved for one run: everything an adapter needs, and nothing host-specific. */
export interface RegistrySnapshot {
  ref: string;
  slug: string;
  entry: RegistryEntry;
  /** Content id of the canonical entry, so a receipt pins exactly what ran. */
  entry_cid: string;
}

/** An entry file as errors name it: relative to the registry folder, the same on every host. */
export function entryName(slug: string): string {
  return `${slug}/${ENTRY_FILE}`;
}

export class Registry {
  readonly dir: string;

  constructor(dir: string = BUILTIN_REGISTRY_DIR) {
    this.dir = resolve(dir);
  }

  /** The directory given by `--registry`, else `PROCCTL_REGISTRY`, else the built-in one. */
  static fromOptions(dir?: string, env: NodeJS.ProcessEnv = process.env): Registry {
    return new Registry(dir ?? env['PROCCTL_REGISTRY'] ?? BUILTIN_REGISTRY_DIR);
  }

  entryFile(ref: ProcessorRef): string {
    return join(this.dir, ref.slug, ENTRY_FILE);
  }

  snapshot(refText: string): RegistrySnapshot {
    const ref = parseRef(refText);
    const file = this.entryFile(ref);
    if (!existsSync(file)) {
      const known = this.slugs().length;
      // No folder path: the envelope's bytes must not depend on where procctl or a registry lives.
      const which = this.dir === resolve(BUILTIN_REGISTRY_DIR) ? 'the built-in registry' : 'the registry folder (--registry / PROCCTL_REGISTRY)';
      throw new ProcctlError('ERR_PROCESSOR_NOT_FOUND', `processor ${ref.text} is not in ${which} (no ${ref.slug}/${ENTRY_FILE}; ${known} processor(s) known — see \`procctl registry list\`)`, { ref: ref.text, registry: this.dir === resolve(BUILTIN_REGISTRY_DIR) ? 'builtin' : 'folder' });
    }
    const entry = readEntryFile(file, entryName(ref.slug), ref.slug);
    return { ref: ref.text, slug: ref.slug, entry, entry_cid: canonicalContentId(entry) };
  }

  /** Slugs of every folder holding an entry file, sorted. */
  slugs(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(this.dir, d.name, ENTRY_FILE)))
      .map((d) => d.name)
      .sort();
  }

  /** Every entry, checked; the first broken one throws with its file and field. */
  list(): RegistryEntry[] {
    const { entries, problems } = this.scan();
    if (problems[0]) throw problems[0];
    return entries;
  }

  /**
   * Reads every entry: the good ones, and a typed problem (file and field) for each broken one.
   * One bad entry never hides the others.
   */
  scan(): { entries: RegistryEntry[]; problems: ProcctlError[] } {
    const entries: RegistryEntry[] = [];
    const problems: ProcctlError[] = [];
    for (const slug of this.slugs()) {
      try {
        entries.push(readEntryFile(join(this.dir, slug, ENTRY_FILE), entryName(slug), slug));
      } catch (err) {
        problems.push(err instanceof ProcctlError ? err : new ProcctlError('ERR_REGISTRY_INVALID', `${entryName(slug)}: cannot be read: ${(err as Error).message}`, { file: entryName(slug), field: '' }));
      }
    }
    return { entries, problems };
  }

  /** Checks every entry and returns all problems rather than stopping at the first. */
  validate(): { checked: number; problems: ProcctlError[] } {
    const { entries, problems } = this.scan();
    return { checked: entries.length + problems.length, problems };
  }
}

/** The pinned digest for a platform, or null when the entry has none for it yet. */
export function pinnedDigest(snapshot: RegistrySnapshot, platform: string): string | null {
  return snapshot.entry.image.digests[platform] ?? null;
}
