/**
 * Reading a pod's state the way procctl needs it: is its image unpullable (Kubernetes retries that
 * forever and never counts it as a failure), and how did its container end.
 */
import type * as K8s from '@kubernetes/client-node';

/** Waiting reasons that mean the image will not arrive by waiting. */
const IMAGE_PROBLEMS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull', 'ErrInvalidImageName']);

export interface ImagePullProblem {
  reason: string;
  /** Kubernetes' own words (the kubelet's pull error). */
  message: string;
}

function statusOf(pod: K8s.V1Pod, container: string): K8s.V1ContainerStatus | undefined {
  return pod.status?.containerStatuses?.find((s) => s.name === container);
}

export function imagePullProblem(pod: K8s.V1Pod, container: string): ImagePullProblem | undefined {
  const waiting = statusOf(pod, container)?.state?.waiting;
  if (!waiting?.reason || !IMAGE_PROBLEMS.has(waiting.reason)) return undefined;
  return { reason: waiting.reason, message: waiting.message ?? waiting.reason };
}

export interface Termination {
  exitCode: number;
  /** e.g. Completed, Error, OOMKilled. */
  reason: string;
  oomKilled: boolean;
  /** the container restarted since (a Deployment's pod); this is its last death. */
  previous: boolean;
}

/** How the container ended: its current state if terminated, else its last termination, if any. */
export function termination(pod: K8s.V1Pod, container: string): Termination | undefined {
  const status = statusOf(pod, container);
  const now = status?.state?.terminated;
  const last = status?.lastState?.terminated;
  const ended = now ?? last;
  if (!ended) return undefined;
  const reason = ended.reason ?? '';
  return { exitCode: ended.exitCode, reason, oomKilled: reason === 'OOMKilled', previous: now === undefined };
}

export function isRunning(pod: K8s.V1Pod, container: string): boolean {
  return statusOf(pod, container)?.state?.running !== undefined;
}

export function isReady(pod: K8s.V1Pod, container: string): boolean {
  return statusOf(pod, container)?.ready === true;
}

/** Label values: at most 63 characters of [A-Za-z0-9_.-], starting and ending alphanumeric. */
export function labelValue(text: string): string | undefined {
  return /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/.test(text) ? text : undefined;
}
