/** The whole image workflow for one processor: build, push, and pin the digest in its entry. */
import { hostPlatform } from '../contracts/platform.js';
import { parseRef } from '../registry/ref.js';
import type { Registry } from '../registry/registry.js';
import { buildImage, pinDigest, pushImage, type Progress } from './images.js';

export async function buildAndPin(registry: Registry, refText: string, options: { pin?: boolean; progress?: Progress } = {}): Promise<{ reference: string; digest: string; entryFile: string }> {
  const snapshot = registry.snapshot(refText);
  const tag = await buildImage(snapshot, registry.dir, options.progress);
  const digest = await pushImage(tag, options.progress);
  const entryFile = registry.entryFile(parseRef(refText));
  if (options.pin !== false) await pinDigest(entryFile, hostPlatform(), digest);
  return { reference: `${snapshot.entry.image.repository}@${digest}`, digest, entryFile };
}
