/**
 * The deployments panel of `procctl ui`: what each placement has started and whether it is
 * healthy. Each placement contributes a provider; the local Docker one is built in, and the Modal
 * and Kubernetes placements add theirs with `registerPlacementStatusProvider` (or a caller passes
 * its own list to `startUiServer`).
 */
export interface DeploymentStatus {
  /** Container, app or deployment name, as the placement's own CLI shows it. */
  name: string;
  ref: string;
  mode: string;
  /** The placement's state word (running, exited, ready, …). */
  state: string;
  healthy: boolean;
  detail?: string;
  endpoint?: string;
}

export interface PlacementStatusProvider {
  /** The placement, e.g. `local`, `modal`, `kubernetes`. */
  placement: string;
  /** What is started now; throwing means "cannot tell", shown as that provider's error. */
  status(): Promise<DeploymentStatus[]>;
}

export interface PlacementStatusReport {
  placement: string;
  deployments: DeploymentStatus[];
  error?: string;
}

/**
 * `localctl status`: the containers procctl manages on the local Docker engine, each running one
 * asked for its /healthz (a runtime that answers 503, or not at all, is not healthy).
 */
export const localPlacementStatus: PlacementStatusProvider = {
  placement: 'local',
  async status() {
    const [{ listManaged }, { runtimeHealth }] = await Promise.all([import('../docker/containers.js'), import('../protocol/health.js')]);
    return Promise.all(
      (await listManaged()).map(async (c) => {
        const health = c.state === 'running' && c.endpoint ? await runtimeHealth(c.endpoint, 1000).catch((err: Error) => ({ ok: false, reason: err.message })) : { ok: false, reason: undefined };
        const detail = [c.status, health.ok ? '' : health.reason].filter(Boolean).join('; ');
        return { name: c.name, ref: c.ref, mode: c.mode, state: c.state, healthy: health.ok, detail, ...(c.endpoint && { endpoint: c.endpoint }) };
      }),
    );
  },
};

const providers: PlacementStatusProvider[] = [localPlacementStatus];

/** Adds a placement's provider to the ones `procctl ui` shows by default. */
export function registerPlacementStatusProvider(provider: PlacementStatusProvider): void {
  if (!providers.some((p) => p.placement === provider.placement)) providers.push(provider);
}

export function placementStatusProviders(): readonly PlacementStatusProvider[] {
  return providers;
}

/** Every provider asked at once; one that fails or takes too long reports why, the rest still show. */
export async function collectDeployments(list: readonly PlacementStatusProvider[], timeoutMs = 5000): Promise<PlacementStatusReport[]> {
  return Promise.all(
    list.map(async (provider): Promise<PlacementStatusReport> => {
      let timer: NodeJS.Timeout | undefined;
      try {
        const deployments = await Promise.race([
          provider.status(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        return { placement: provider.placement, deployments };
      } catch (err) {
        return { placement: provider.placement, deployments: [], error: (err as Error).message };
      } finally {
        clearTimeout(timer);
      }
    }),
  );
}
