/**
 * Chooses the artifact store from a location (`--artifacts`, else `PROCCTL_ARTIFACTS`, else
 * `.procctl/artifacts`): `s3://bucket/prefix` is the S3 store, a directory path or `file://` URL
 * the filesystem store. Any other `scheme://` is refused rather than taken for a directory name.
 */
import { fileURLToPath } from 'node:url';
import { ProcctlError } from '../contracts/errors.js';
import { FsArtifactStore } from '../artifacts/fs-store.js';
import { isS3Location } from '../artifacts/s3-location.js';
import { S3ArtifactStore, type UploadProgress } from '../artifacts/s3-store.js';
import type { ArtifactStore } from '../artifacts/store.js';

export const DEFAULT_ARTIFACTS_DIR = '.procctl/artifacts';

export function artifactsLocation(option?: string, env: NodeJS.ProcessEnv = process.env): string {
  // An empty PROCCTL_ARTIFACTS counts as unset, as shells mean it; an empty --artifacts is refused.
  return option ?? (env['PROCCTL_ARTIFACTS'] || DEFAULT_ARTIFACTS_DIR);
}

/** `uploadProgress`: how far large S3 uploads have come (a terminal's live line); the filesystem store ignores it. */
export async function openStore(location: string, options: { uploadProgress?: UploadProgress } = {}): Promise<ArtifactStore> {
  // An empty location (`--artifacts ''`, `PROCCTL_ARTIFACTS=`) is a mistake, not "the default".
  if (location.trim() === '') throw new ProcctlError('ERR_USAGE', '--artifacts is empty; give a directory, a file:// URL or s3://BUCKET/PREFIX', { location });
  if (isS3Location(location)) return new S3ArtifactStore(location, options.uploadProgress ? { uploadProgress: options.uploadProgress } : {});
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(location)?.[1];
  if (scheme === undefined) return new FsArtifactStore(location);
  const usage = (reason: string) => new ProcctlError('ERR_USAGE', `artifact store ${JSON.stringify(location)} ${reason}`, { location });
  if (scheme.toLowerCase() !== 'file') throw usage(`has scheme ${scheme}://; use a directory, a file:// URL or s3://BUCKET/PREFIX`);
  try {
    return new FsArtifactStore(fileURLToPath(location));
  } catch (err) {
    throw usage(`is not a usable file:// URL: ${(err as Error).message}`);
  }
}
