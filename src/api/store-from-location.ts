/**
 * Chooses the artifact store from a location: a directory path (the default `.procctl/artifacts`)
 * or `PROCCTL_ARTIFACTS`.
 */
import { FsArtifactStore } from '../artifacts/fs-store.js';
import type { ArtifactStore } from '../artifacts/store.js';

export const DEFAULT_ARTIFACTS_DIR = '.procctl/artifacts';

export function artifactsLocation(option?: string, env: NodeJS.ProcessEnv = process.env): string {
  return option ?? env['PROCCTL_ARTIFACTS'] ?? DEFAULT_ARTIFACTS_DIR;
}

export async function openStore(location: string): Promise<ArtifactStore> {
  return new FsArtifactStore(location);
}
