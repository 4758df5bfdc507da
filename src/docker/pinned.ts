/** The image a processor pins for this host: needed on the warm path, so kept apart from the Docker client. */
import { ProcctlError } from '../contracts/errors.js';
import { hostPlatform } from '../contracts/platform.js';
import { pinnedDigest, type RegistrySnapshot } from '../registry/registry.js';

/** The pinned `repository@digest` for this platform, or ERR_IMAGE_NOT_PINNED saying how to pin. */
export function pinnedReference(snapshot: RegistrySnapshot): { reference: string; digest: string } {
  const platform = hostPlatform();
  const digest = pinnedDigest(snapshot, platform);
  if (!digest) {
    throw new ProcctlError('ERR_IMAGE_NOT_PINNED', `${snapshot.ref} pins no image for ${platform}; build, push and pin one with: procctl images build --ref ${snapshot.ref}`, { ref: snapshot.ref, platform });
  }
  return { reference: `${snapshot.entry.image.repository}@${digest}`, digest };
}
