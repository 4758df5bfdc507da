// Kubernetes dispatch: run a payload as a Job in the executor image and read the start markers and
// the result line back from the pod's log, with the Docker dispatch's parser.
//
// The payload travels in a Secret mounted as a file, never in the Job's args (where anyone with
// `get jobs` would read it). The Job has backoffLimit 0 (a payload is never rerun behind the
// caller's back), activeDeadlineSeconds from timeout_seconds plus a grace, and a TTL.
//
// Outcome rules (docs/executor.md), as for Docker: anything that fails before the Job exists is
// `dispatch_failed`; an image that cannot be pulled is `dispatch_failed` too (Kubernetes retries it
// forever, so the Job is deleted); after that, the result line is the answer, and an API server
// lost for longer than the tolerance is `dispatch_uncertain` — never retried.
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type * as K8s from '@kubernetes/client-node';
import { DEFAULT_EXECUTOR_IMAGE, type ExecutionResult, type ExecutorPayload } from '../contract.js';
import { DEFAULT_KILL_GRACE_SECONDS } from '../config.js';
import { errorMessage } from '../errors.js';
import { cancelledBeforeStart, dispatchResult } from '../result.js';
import type { PayloadRun } from '../execute.js';
import { ExecutorOutputParser, parseResultJson } from './output-parser.js';
import { connectCluster, describeApiError, withinMs, type Cluster, type ClusterOptions } from '../../kubernetes/client.js';
import { imagePullProblem, isRunning, labelValue, termination } from '../../kubernetes/pods.js';
import { deleteJob } from '../../kubernetes/jobs.js';
import { followLog, type LogFollow } from '../../kubernetes/logs.js';

const CONTAINER = 'executor';
const PAYLOAD_DIR = '/var/run/llmctl';
const PAYLOAD_KEY = 'payload.json';
const POLL_MS = 200;

export interface KubernetesDispatchOptions extends ClusterOptions {
  /** executor image; default $LLMCTL_EXECUTOR_IMAGE or llmctl-executor:latest. It must be pullable by the cluster. */
  image?: string | undefined;
  /** container resources, requests = limits (e.g. cpu "500m", memory "256Mi"). */
  cpu?: string | undefined;
  memory?: string | undefined;
  /** seconds a finished Job (and its pod and payload Secret) is kept; default 600. */
  ttlSecondsAfterFinished?: number | undefined;
  /** seconds the API server may be unreachable mid-run before the outcome is uncertain; default 10. */
  apiLossToleranceSeconds?: number | undefined;
  /** seconds beyond timeout_seconds and the stop grace for activeDeadlineSeconds; default 30. */
  deadlineSlackSeconds?: number | undefined;
}

function jobManifest(name: string, payload: ExecutorPayload, image: string, run: PayloadRun, options: KubernetesDispatchOptions): K8s.V1Job {
  const innerGraceSeconds = Math.ceil(run.config.killGraceMs / 1000) || DEFAULT_KILL_GRACE_SECONDS;
  const env: K8s.V1EnvVar[] = [];
  for (const key of ['LLMCTL_EXECUTOR_KILL_GRACE_SECONDS', 'LLMCTL_EXECUTOR_DEFAULT_CWD'] as const) {
    const value = run.env[key];
    if (value) env.push({ name: key, value });
  }
  const requestId = payload.request_id !== undefined ? labelValue(payload.request_id) : undefined;
  const labels = { 'app.kubernetes.io/managed-by': 'procctl', 'procctl.executor': 'true', ...(requestId && { 'procctl.executor.request-id': requestId }) };
  const resources: Record<string, string> = { ...(options.cpu && { cpu: options.cpu }), ...(options.memory && { memory: options.memory }) };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, labels, ...(payload.request_id !== undefined && { annotations: { 'procctl.executor/request-id': payload.request_id } }) },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: payload.timeout_seconds + innerGraceSeconds + (options.deadlineSlackSeconds ?? 30),
      ttlSecondsAfterFinished: options.ttlSecondsAfterFinished ?? 600,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          // The executor stops its command group with its own grace; the kubelet's must outlast it.
          terminationGracePeriodSeconds: innerGraceSeconds + 5,
          automountServiceAccountToken: false,
          containers: [
            {
              name: CONTAINER,
              image,
              imagePullPolicy: 'IfNotPresent',
              args: ['--payload-file', `${PAYLOAD_DIR}/${PAYLOAD_KEY}`],
              env,
              ...(Object.keys(resources).length > 0 && { resources: { requests: resources, limits: resources } }),
              volumeMounts: [{ name: 'payload', mountPath: PAYLOAD_DIR, readOnly: true }],
            },
          ],
          volumes: [{ name: 'payload', secret: { secretName: name, defaultMode: 0o444 } }],
        },
      },
    },
  };
}

export async function dispatchToKubernetes(payload: ExecutorPayload, run: PayloadRun, options: KubernetesDispatchOptions = {}): Promise<ExecutionResult> {
  const startedAt = new Date();
  const image = options.image ?? run.env.LLMCTL_EXECUTOR_IMAGE ?? DEFAULT_EXECUTOR_IMAGE;
  const dispatchMeta: Record<string, unknown> = { provider: 'kubernetes', image };
  run.ctx.provider_metadata.dispatch = dispatchMeta;
  const fail = (status: 'dispatch_failed' | 'dispatch_uncertain', message: string, details: Record<string, unknown> = {}) =>
    dispatchResult(status, message, details, startedAt, run.ctx);

  let cluster: Cluster;
  try {
    cluster = await connectCluster({ ...options, env: options.env ?? run.env });
  } catch (err) {
    return fail('dispatch_failed', errorMessage(err));
  }
  const name = `llmctl-exec-${randomBytes(5).toString('hex')}`;
  Object.assign(dispatchMeta, { namespace: cluster.namespace, job: name });
  if (run.signal?.aborted) return cancelledBeforeStart(startedAt, run.ctx);

  // 1. The payload, in a Secret of the Job's name. Anything failing here or at the Job's creation
  // means the command never ran.
  let secret: K8s.V1Secret;
  try {
    secret = await cluster.core.createNamespacedSecret({
      namespace: cluster.namespace,
      body: { metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'procctl', 'procctl.executor': 'true' } }, type: 'Opaque', stringData: { [PAYLOAD_KEY]: JSON.stringify(payload) } },
    });
  } catch (err) {
    return fail('dispatch_failed', `cannot create the payload Secret ${cluster.namespace}/${name} on ${cluster.server}: ${describeApiError(err)}`);
  }
  let job: K8s.V1Job;
  try {
    job = await cluster.batch.createNamespacedJob({ namespace: cluster.namespace, body: jobManifest(name, payload, image, run, options) });
  } catch (err) {
    await cluster.core.deleteNamespacedSecret({ namespace: cluster.namespace, name }).catch(() => undefined);
    return fail('dispatch_failed', `cannot create Job ${cluster.namespace}/${name} on ${cluster.server}: ${describeApiError(err)}`);
  }
  // The Secret belongs to the Job from now on: deleting the Job (or its TTL) removes it too.
  const owned = cluster.core
    .replaceNamespacedSecret({
      namespace: cluster.namespace,
      name,
      body: { ...secret, metadata: { ...secret.metadata, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name, uid: job.metadata?.uid as string, blockOwnerDeletion: false }] } },
    })
    .catch((err: unknown) => run.ctx.warnings.push(`payload Secret ${name} could not be tied to its Job (${describeApiError(err)}); delete it by hand`));

  const toleranceMs = (options.apiLossToleranceSeconds ?? 10) * 1000;
  const deadlineMs = ((job.spec?.activeDeadlineSeconds ?? payload.timeout_seconds) + 60) * 1000;
  const parser = new ExecutorOutputParser(run.writeLine);
  let follow: LogFollow | undefined;
  let cancelled = false;
  const onAbort = () => (cancelled = true);
  run.signal?.addEventListener('abort', onAbort, { once: true });
  if (run.signal?.aborted) cancelled = true;
  let lastContact = Date.now();
  let podName: string | undefined;
  let ended: { exitCode: number; reason: string; oomKilled: boolean } | undefined;
  let outcome: ExecutionResult | undefined;

  try {
    for (;;) {
      if (cancelled) {
        const gone = await deleteJob(cluster, name).then(() => undefined, (err: unknown) => describeApiError(err));
        outcome = cancelledBeforeStart(startedAt, run.ctx, {
          message: gone === undefined ? `cancelled: Job ${cluster.namespace}/${name} was deleted (propagationPolicy Background), which stops its pod` : `cancelled, but Job ${cluster.namespace}/${name} could not be deleted (${gone}); delete it by hand`,
          details: { started: parser.startedMarkerSeen, job: name, namespace: cluster.namespace, job_deleted: gone === undefined },
        });
        break;
      }
      if (Date.now() - startedAt.getTime() > deadlineMs) {
        await deleteJob(cluster, name).catch(() => undefined);
        outcome = fail('dispatch_uncertain', `Job ${cluster.namespace}/${name} outlived its activeDeadlineSeconds by more than a minute and was deleted; the command's outcome is unknown`, { job: name });
        break;
      }
      let pods: K8s.V1Pod[];
      try {
        pods = (await withinMs(cluster.core.listNamespacedPod({ namespace: cluster.namespace, labelSelector: `job-name=${name}` }), 5000, 'list pods')).items;
        lastContact = Date.now();
      } catch (err) {
        if (Date.now() - lastContact > toleranceMs) {
          outcome = fail(
            'dispatch_uncertain',
            `lost contact with the Kubernetes API server ${cluster.server} while Job ${cluster.namespace}/${name} was running (${describeApiError(err)}); the command may or may not have run to completion`,
            { job: name, namespace: cluster.namespace, pod: podName ?? null },
          );
          break;
        }
        await delay(POLL_MS);
        continue;
      }
      const pod = pods[0];
      if (pod) {
        podName = pod.metadata?.name;
        dispatchMeta.pod = podName;
        if (pod.spec?.nodeName) dispatchMeta.node = pod.spec.nodeName;
        const pull = imagePullProblem(pod, CONTAINER);
        if (pull) {
          const gone = await deleteJob(cluster, name).then(() => true, () => false);
          outcome = fail('dispatch_failed', `the cluster cannot pull the executor image ${image} (${pull.reason}: ${pull.message}); Job ${cluster.namespace}/${name} ${gone ? 'was deleted' : 'could not be deleted'}`, {
            job: name,
            reason: pull.reason,
            job_deleted: gone,
          });
          break;
        }
        const end = termination(pod, CONTAINER);
        if (!follow && podName && (isRunning(pod, CONTAINER) || end)) follow = await followLog(cluster, podName, CONTAINER, parser).catch(() => undefined);
        if (end) {
          ended = end;
          break;
        }
      }
      await delay(POLL_MS);
    }
  } finally {
    run.signal?.removeEventListener('abort', onAbort);
  }
  await owned;
  if (outcome) {
    follow?.abort();
    return outcome;
  }

  // The container ended: let the log stream drain, then, if it missed the result line (a dropped
  // connection), read the whole log once more.
  const done = ended as { exitCode: number; reason: string; oomKilled: boolean };
  Object.assign(dispatchMeta, { container_exit_code: done.exitCode, termination_reason: done.reason, oom_killed: done.oomKilled });
  if (follow) {
    let settle: NodeJS.Timeout | undefined;
    await Promise.race([follow.ended, new Promise<void>((resolve) => (settle = setTimeout(resolve, 5000)))]);
    clearTimeout(settle);
    follow.abort();
  }
  parser.flushPending();
  let resultLine = parser.resultLine;
  let startedSeen = parser.startedMarkerSeen;
  let unexpected = parser.unexpected;
  if (resultLine === undefined && podName) {
    try {
      const log = await cluster.core.readNamespacedPodLog({ namespace: cluster.namespace, name: podName, container: CONTAINER });
      const again = new ExecutorOutputParser(() => undefined);
      again.write(Buffer.from(String(log)));
      again.flushPending();
      resultLine = again.resultLine;
      startedSeen ||= again.startedMarkerSeen;
      unexpected = again.unexpected;
    } catch (err) {
      run.ctx.warnings.push(`cannot read the log of pod ${podName}: ${describeApiError(err)}`);
    }
  }
  const oomKilled = `the container was OOMKilled${options.memory ? ` (memory limit ${options.memory})` : ''}`;
  const oomNote = done.oomKilled ? `; ${oomKilled}` : '';
  const details = { job: name, pod: podName ?? null, container_exit_code: done.exitCode, termination_reason: done.reason, oom_killed: done.oomKilled, ...(unexpected ? { unexpected_stdout: unexpected } : {}) };
  if (resultLine !== undefined) {
    try {
      const result = parseResultJson(resultLine);
      result.provider_metadata = { ...result.provider_metadata, dispatch: dispatchMeta };
      if (done.oomKilled) result.warnings = [...(result.warnings ?? []), `pod ${podName}: ${oomKilled}`];
      return result;
    } catch (err) {
      return fail('dispatch_uncertain', `pod ${podName} printed an unreadable result: ${errorMessage(err)}${oomNote}`, details);
    }
  }
  if (!startedSeen && !done.oomKilled)
    return fail('dispatch_failed', `pod ${podName} exited with status ${done.exitCode} (${done.reason}) before the executor started the command`, details);
  return fail('dispatch_uncertain', `pod ${podName} exited with status ${done.exitCode} (${done.reason}) without printing a result${oomNote}; the command's outcome is unknown`, details);
}

