/**
 * The OCI platform work runs on. Processors always run on Linux (in a container, or the same code
 * in-process), so the platform is `linux/<arch>` even on a macOS host: that is what keeps the
 * in-process envelope equal to the container one.
 */
const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' };

export function hostPlatform(): string {
  return `linux/${ARCH[process.arch] ?? process.arch}`;
}
