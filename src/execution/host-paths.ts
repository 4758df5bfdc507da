/**
 * Cuts host folders out of text that lands in an envelope (a handler's failure, an import error),
 * leaving the path relative to the folder: `/srv/reg/my-upper-v1/data.json` becomes
 * `my-upper-v1/data.json`. An envelope's bytes must not depend on where a registry lives, and a
 * container keeps its registry elsewhere than the host does.
 */
import { realpathSync } from 'node:fs';
import { sep } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The spellings Node may use for `folder`: as given and its real path (Node names modules by it), each plain and as a file URL. */
function spellings(folder: string): string[] {
  const withSep = folder.endsWith(sep) ? folder : `${folder}${sep}`;
  const forms = [withSep];
  try {
    forms.push(`${realpathSync(withSep)}${sep}`);
  } catch {
    // a folder that is gone has only the spelling given
  }
  return [...new Set(forms.flatMap((f) => [pathToFileURL(f).href, f]))];
}

/** `text` with each of `folders` (absolute) removed wherever it occurs. */
export function withoutFolders(text: string, folders: readonly (string | undefined)[]): string {
  // Longest first, so a folder inside another is cut whole.
  const cuts = folders.flatMap((f) => (f ? spellings(f) : [])).sort((a, b) => b.length - a.length);
  let out = text;
  for (const cut of cuts) out = out.split(cut).join('');
  return out;
}
