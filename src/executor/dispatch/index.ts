// `procctl exec`: run a payload with the provider it names (or --provider): `workspace` runs it
// right here through the same code path as llmctl-executor, `docker` in the executor image on
// the local engine, `kubernetes` as a Job on the cluster the kubeconfig names.
import type { Provider } from '../contract.js';
import { executePayload, runWithPayload, type ExecutorOptions, type ExecutorRun } from '../execute.js';
import { dispatchToDocker, type DockerDispatchOptions } from './docker.js';
import { dispatchToKubernetes, type KubernetesDispatchOptions } from './kubernetes.js';

export interface DispatchOptions extends ExecutorOptions {
  /** overrides the payload's `provider` (the payload sent on carries the override too). */
  provider?: Provider | undefined;
  docker?: DockerDispatchOptions;
  kubernetes?: KubernetesDispatchOptions;
}

export function dispatchExecutor(opts: DispatchOptions): Promise<ExecutorRun> {
  const override = opts.provider;
  return runWithPayload(
    opts,
    (payload, run) => {
      switch (payload.provider) {
        case 'workspace':
          return executePayload(payload, run);
        case 'docker':
          return dispatchToDocker(payload, run, opts.docker);
        case 'kubernetes':
          return dispatchToKubernetes(payload, run, opts.kubernetes);
      }
    },
    override ? (payload) => ({ ...payload, provider: override }) : undefined,
  );
}

export { DEFAULT_EXECUTOR_IMAGE, DOCKER_API_VERSION, dispatchToDocker, type DockerDispatchOptions } from './docker.js';
export { ExecutorOutputParser, parseResultJson } from './output-parser.js';
export { dispatchToKubernetes, type KubernetesDispatchOptions } from './kubernetes.js';
