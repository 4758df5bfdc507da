/**
 * The Modal and Kubernetes rows of the `procctl ui` deployments panel: the same data as
 * `modalctl status --json` and `procctl kube status --json`. Each loads its SDK or client only when
 * the panel asks it, so a UI without those placements never pays for them.
 */
import type { ClusterOptions } from '../kubernetes/client.js';
import type { PlacementStatusProvider } from './deployments.js';

/**
 * The procctl deployments in each Modal environment given. A sandbox Modal reports running is
 * healthy (`modalctl start` only names one after its /healthz answered); ended ones say how.
 * Rows carry no token: `listDeployments` reads the tags but returns none of the token.
 */
export function modalPlacementStatus(environments: readonly string[], processEnv: NodeJS.ProcessEnv = process.env): PlacementStatusProvider {
  return {
    placement: 'modal',
    async status() {
      const [{ checkEnvironment }, { listDeployments }] = await Promise.all([import('../modal/names.js'), import('../modal/deployments.js')]);
      const lists = await Promise.all(environments.map(async (env) => listDeployments(checkEnvironment(env), processEnv)));
      return lists.flat().map((d) => ({
        name: d.name,
        ref: d.ref,
        mode: d.mode,
        state: d.state,
        healthy: d.state === 'running',
        detail: [`env ${d.env}`, `sandbox ${d.sandbox_id}`, d.expires && `expires ${d.expires}`].filter(Boolean).join('; '),
      }));
    },
  };
}

/**
 * The processor pods procctl manages in one namespace of the kubeconfig's context. Healthy means
 * running and ready (`procctl kube start` checked /healthz before it reported the pod started).
 */
export function kubernetesPlacementStatus(options: ClusterOptions = {}): PlacementStatusProvider {
  return {
    placement: 'kubernetes',
    async status() {
      const [{ connectCluster }, { listProcessorPods }] = await Promise.all([import('../kubernetes/client.js'), import('../kubernetes/processors.js')]);
      const cluster = await connectCluster(options);
      return (await listProcessorPods(cluster)).map((p) => ({
        name: `${cluster.namespace}/${p.name}`,
        ref: p.ref,
        mode: p.mode,
        state: p.phase,
        healthy: p.phase === 'Running' && p.ready,
        detail: [p.node && `node ${p.node}`, p.ready ? '' : 'not ready', p.problem].filter(Boolean).join('; '),
      }));
    },
  };
}
