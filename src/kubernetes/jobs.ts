/** Job operations procctl needs beyond create and read. */
import type { Cluster } from './client.js';
import { apiStatus, withinMs } from './client.js';

/**
 * Deletes a Job and, with it, its pods. batch/v1's default propagation orphans the pods (they keep
 * running), so the policy is always given. A Job already gone counts as deleted.
 */
export async function deleteJob(cluster: Cluster, name: string): Promise<void> {
  try {
    await withinMs(cluster.batch.deleteNamespacedJob({ namespace: cluster.namespace, name, propagationPolicy: 'Background' }), 10_000, `delete Job ${name}`);
  } catch (err) {
    if (apiStatus(err) !== 404) throw err;
  }
}
