/**
 * The Kubernetes API client: `@kubernetes/client-node`, loaded only when a command needs a cluster
 * (it is large, and procctl's start-up time is measured). The kubeconfig is found the way kubectl
 * finds it — `KUBECONFIG`, then `~/.kube/config`, then the in-cluster service account — and the
 * context and namespace may be chosen by flag.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type * as K8s from '@kubernetes/client-node';
import { ProcctlError } from '../contracts/errors.js';

export type KubernetesLib = typeof K8s;

export interface ClusterOptions {
  /** a context of the kubeconfig; default its current-context. */
  context?: string | undefined;
  /** default: the context's namespace, else `default`. */
  namespace?: string | undefined;
  /** read the environment from here instead of process.env (KUBECONFIG, HOME, in-cluster variables). */
  env?: NodeJS.ProcessEnv | undefined;
}

export interface Cluster {
  lib: KubernetesLib;
  config: K8s.KubeConfig;
  core: K8s.CoreV1Api;
  batch: K8s.BatchV1Api;
  namespace: string;
  /** the API server's URL, for messages. */
  server: string;
}

let loaded: Promise<KubernetesLib> | undefined;

export function kubernetesLib(): Promise<KubernetesLib> {
  loaded ??= import('@kubernetes/client-node');
  return loaded;
}

/** The script that starts a local cluster, named in errors so a user knows where one comes from. */
export const LOCAL_CLUSTER_HINT = 'set KUBECONFIG (a local cluster: bash .ci/kubernetes.sh, then KUBECONFIG=/var/lib/procctl-k8s/kubeconfig)';

function loadConfig(lib: KubernetesLib, env: NodeJS.ProcessEnv): K8s.KubeConfig {
  const config = new lib.KubeConfig();
  const home = join(env['HOME'] ?? homedir(), '.kube', 'config');
  try {
    if (env['KUBECONFIG']) {
      // Like kubectl: a list of files, merged.
      const files = env['KUBECONFIG'].split(':').filter(Boolean);
      const missing = files.filter((f) => !existsSync(f));
      if (missing.length === files.length) throw new Error(`KUBECONFIG names no file that exists (${missing.join(', ')})`);
      config.loadFromFile(files.find((f) => existsSync(f)) as string);
      for (const f of files.slice(1)) if (existsSync(f)) {
        const more = new lib.KubeConfig();
        more.loadFromFile(f);
        config.mergeConfig(more);
      }
    } else if (existsSync(home)) config.loadFromFile(home);
    else if (env['KUBERNETES_SERVICE_HOST']) config.loadFromCluster();
    else throw new Error(`no KUBECONFIG, no ${home}, and not inside a cluster`);
  } catch (err) {
    throw new ProcctlError('ERR_KUBERNETES_UNAVAILABLE', `cannot load a kubeconfig: ${(err as Error).message}; ${LOCAL_CLUSTER_HINT}`, undefined, { cause: err });
  }
  return config;
}

/** A client for the chosen context and namespace. Nothing is sent to the API server yet. */
export async function connectCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const lib = await kubernetesLib();
  const config = loadConfig(lib, options.env ?? process.env);
  if (options.context !== undefined) {
    if (!config.getContexts().some((c) => c.name === options.context)) {
      throw new ProcctlError('ERR_USAGE', `--context ${options.context} is not in the kubeconfig (it has: ${config.getContexts().map((c) => c.name).join(', ') || 'none'})`);
    }
    config.setCurrentContext(options.context);
  }
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new ProcctlError('ERR_KUBERNETES_UNAVAILABLE', `the kubeconfig's context ${config.getCurrentContext() || '(none)'} names no cluster; ${LOCAL_CLUSTER_HINT}`);
  const namespace = options.namespace ?? config.getContextObject(config.getCurrentContext())?.namespace ?? 'default';
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace)) throw new ProcctlError('ERR_USAGE', `--namespace ${JSON.stringify(namespace)} is not a Kubernetes namespace name`);
  return { lib, config, core: config.makeApiClient(lib.CoreV1Api), batch: config.makeApiClient(lib.BatchV1Api), namespace, server: cluster.server };
}

/** The HTTP status of an API error (ApiException), or undefined for a transport failure. */
export function apiStatus(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** A short, secret-free description of an API failure: the Status message when the server sent one. */
export function describeApiError(err: unknown): string {
  const status = apiStatus(err);
  if (status !== undefined) {
    const body = (err as { body?: unknown }).body;
    let message: string | undefined;
    try {
      const parsed = (typeof body === 'string' ? JSON.parse(body) : body) as { message?: unknown } | undefined;
      if (typeof parsed?.message === 'string') message = parsed.message;
    } catch {
      // not a Status document
    }
    return `HTTP ${status}${message ? `: ${message}` : ''}`;
  }
  const e = err as { code?: unknown; message?: unknown; cause?: { code?: unknown } } | null;
  const code = typeof e?.code === 'string' ? e.code : typeof e?.cause?.code === 'string' ? e.cause.code : undefined;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

/** The typed error for an API server that did not answer (or answered with a server error). */
export function apiUnavailable(cluster: Pick<Cluster, 'server'>, doing: string, err: unknown): ProcctlError {
  return new ProcctlError('ERR_KUBERNETES_UNAVAILABLE', `cannot ${doing} on ${cluster.server}: ${describeApiError(err)}`, { server: cluster.server }, { cause: err });
}

/**
 * The API call, or a rejection after `ms`: the client sets no timeout of its own, and an API server
 * that accepted the connection and then went away would otherwise hold a caller forever.
 */
export async function withinMs<T>(call: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([call, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
