/** `GET /healthz` of a processor runtime, from the control plane's side. */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ProcctlError } from '../contracts/errors.js';
import { HEALTH_PATH } from './constants.js';

/** What /healthz answers; `ok` is false (HTTP 503) while shutting down or unfit. */
export interface RuntimeHealthReport {
  ok: boolean;
  digest: string | null;
  protocol?: string;
  platform?: string;
  reason?: string;
}

/** Asks the runtime at `baseUrl` (`http://host:port`). Throws ERR_RUNTIME_UNAVAILABLE when nothing sensible answers. */
export function runtimeHealth(baseUrl: string, timeoutMs = 5_000): Promise<RuntimeHealthReport> {
  const url = `${baseUrl.replace(/^ws/, 'http').replace(/\/+$/, '')}${HEALTH_PATH}`;
  return new Promise((resolve, reject) => {
    const unavailable = (why: string) => new ProcctlError('ERR_RUNTIME_UNAVAILABLE', `the processor runtime at ${baseUrl} does not answer ${HEALTH_PATH}: ${why}`, { url: baseUrl });
    // No keep-alive: a probe is a one-off, and a pooled socket would hold a CLI open after it is done.
    // https: a runtime behind a TLS tunnel (a Modal sandbox's encrypted port).
    const request = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = request(url, { method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as RuntimeHealthReport;
          if (typeof body.ok !== 'boolean') throw new Error('no boolean "ok"');
          resolve(body);
        } catch (err) {
          reject(unavailable(`HTTP ${res.statusCode} with a body that is not a health report (${(err as Error).message})`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => reject(unavailable(err.code ?? err.message)));
    req.end();
  });
}
