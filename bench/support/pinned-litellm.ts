/** The llm/litellm@1 image the container, Modal and Kubernetes benches start, built for this run. */
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAndPin, pinnedReference, Registry, type RegistrySnapshot } from '../../src/index.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

export interface PinnedLitellm {
  /** A private copy of processors/ whose llm/litellm@1 entry pins the fresh image. */
  registryDir: string;
  snapshot: RegistrySnapshot;
  /** The image by digest, as procctl pulls it. */
  reference: string;
  digest: string;
}

/**
 * llm/litellm@1 freshly built, pushed to the local OCI registry and pinned in a private registry
 * copy. Digests are not reproducible across builds, so the committed pins may name an image the
 * local registry does not hold.
 */
export async function pinnedLitellm(): Promise<PinnedLitellm> {
  const registryDir = mkdtempSync(join(tmpdir(), 'procctl-bench-reg-'));
  cpSync(join(root, 'processors'), registryDir, { recursive: true });
  const registry = new Registry(registryDir);
  await buildAndPin(registry, 'llm/litellm@1');
  const snapshot = registry.snapshot('llm/litellm@1');
  return { registryDir, snapshot, ...pinnedReference(snapshot) };
}
