/**
 * Following a pod container's log as it is written, over a plain HTTPS request with the
 * kubeconfig's credentials. (The client library's own follower pipes a response whose errors,
 * on a dropped connection or an abort, nothing may listen to; here every end is an outcome.)
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { Writable } from 'node:stream';
import type { Cluster } from './client.js';

export interface LogFollow {
  /** true when the server ended the log (the container stopped), false on any failure. */
  ended: Promise<boolean>;
  abort(): void;
}

/** Streams the log of `container` in `pod` into `sink` (which is not ended). */
export async function followLog(cluster: Pick<Cluster, 'config' | 'namespace' | 'server'>, pod: string, container: string, sink: Writable): Promise<LogFollow> {
  const url = new URL(`${cluster.server.replace(/\/+$/, '')}/api/v1/namespaces/${encodeURIComponent(cluster.namespace)}/pods/${encodeURIComponent(pod)}/log`);
  url.searchParams.set('container', container);
  url.searchParams.set('follow', 'true');
  const options: RequestOptions = { method: 'GET', headers: {} };
  await cluster.config.applyToHTTPSOptions(options);
  let abort = (): void => undefined;
  const ended = new Promise<boolean>((resolve) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(url, options, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return resolve(false);
      }
      res.on('data', (chunk: Buffer) => sink.write(chunk));
      res.on('end', () => resolve(true));
      res.on('error', () => resolve(false));
      res.on('aborted', () => resolve(false));
    });
    req.on('error', () => resolve(false));
    req.end();
    abort = () => {
      req.destroy();
      resolve(false);
    };
  });
  return { ended, abort: () => abort() };
}
