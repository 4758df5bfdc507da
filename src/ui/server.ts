/**
 * `procctl ui`: a local web view of the runs in one store. node:http on 127.0.0.1 only, with a
 * random token: the first visit carries it in the URL (`/?token=…`), which turns it into an
 * HttpOnly, SameSite=Strict cookie, so other users of the machine (who can reach loopback ports
 * too) cannot read runs. The Host header must name the loopback address, so a web page elsewhere
 * cannot reach the server through DNS rebinding. Every asset is a file of this package (`ui/`);
 * nothing is fetched from outside.
 *
 * The JSON API the page uses: `/api/runs?…filters`, `/api/runs/ID` (records and events),
 * `/api/runs/ID/events`, `/api/runs/ID/outputs/PATH` and `/api/runs/ID/inputs/CID` (bytes
 * checked against their cid before a byte is sent), `/api/deployments`.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { canonicalJson } from '../contracts/canonical-json.js';
import { toProcctlError, type ProcctlError } from '../contracts/errors.js';
import { collectArtifactRefs } from '../artifacts/attachments.js';
import type { RunCatalog, RunFilter } from '../runs/catalog.js';
import type { RunStatus } from '../runs/layout.js';
import { parseTime } from '../runs/times.js';
import { collectDeployments, placementStatusProviders, type PlacementStatusProvider } from './deployments.js';

const ASSET_DIR = fileURLToPath(new URL('../../../ui/', import.meta.url));
const ASSETS: Record<string, string> = {
  '/': 'index.html',
  '/assets/app.js': 'app.js',
  '/assets/app.css': 'app.css',
};
const ASSET_TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };
/** Shown in the page rather than offered as a download. SVG is not: it can carry script. */
const INLINE = /^(text\/plain|application\/json|image\/(png|jpeg|gif|webp))/;
const COOKIE = 'procctl_ui';

export interface UiServerOptions {
  catalog: RunCatalog;
  port?: number;
  /** Default: a fresh random token. */
  token?: string;
  providers?: readonly PlacementStatusProvider[];
}

export interface UiServer {
  server: Server;
  port: number;
  token: string;
  /** The address to open, token included. */
  url: string;
  close(): Promise<void>;
}

export async function startUiServer(options: UiServerOptions): Promise<UiServer> {
  const token = options.token ?? randomBytes(24).toString('hex');
  const providers = options.providers ?? placementStatusProviders();
  const server = createServer((req, res) => {
    handle(req, res, { catalog: options.catalog, token, providers }).catch((err: unknown) => sendError(res, toProcctlError(err)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    token,
    url: `http://127.0.0.1:${port}/?token=${token}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface Context {
  catalog: RunCatalog;
  token: string;
  providers: readonly PlacementStatusProvider[];
}

function sameToken(given: string | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieToken(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === COOKIE) return value.join('=');
  }
  return undefined;
}

async function handle(req: IncomingMessage, res: ServerResponse, ctx: Context): Promise<void> {
  const host = req.headers.host ?? '';
  if (!/^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(host)) return sendText(res, 421, 'this server answers only to 127.0.0.1');
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (req.method !== 'GET') return sendText(res, 405, 'read-only');
  const given = url.searchParams.get('token') ?? undefined;
  if (sameToken(given, ctx.token)) {
    // The token moves from the URL to a cookie, and the URL loses it (history, screenshots).
    res.writeHead(303, { 'set-cookie': `${COOKIE}=${ctx.token}; HttpOnly; SameSite=Strict; Path=/`, location: url.pathname + url.hash });
    return void res.end();
  }
  if (!sameToken(cookieToken(req), ctx.token) && !sameToken(req.headers.authorization?.replace(/^Bearer /, ''), ctx.token)) {
    return sendText(res, 401, 'open the address procctl ui printed (it carries the token)');
  }
  const asset = ASSETS[url.pathname];
  if (asset) return sendAsset(res, asset);
  const parts = url.pathname.split('/').filter(Boolean).map((p) => decodeURIComponent(p));
  if (parts[0] !== 'api') return sendText(res, 404, 'not found');
  if (parts[1] === 'deployments' && parts.length === 2) return sendJson(res, await collectDeployments(ctx.providers));
  if (parts[1] !== 'runs') return sendText(res, 404, 'not found');
  if (parts.length === 2) return sendJson(res, await ctx.catalog.list(filterFrom(url.searchParams)));
  const id = parts[2] as string;
  if (parts.length === 3) {
    const [detail, events] = await Promise.all([ctx.catalog.show(id), ctx.catalog.events(id)]);
    const alive = events.done ? null : await ctx.catalog.alive(detail.prefix);
    return sendJson(res, { ...detail, events: events.events, done: events.done, alive });
  }
  if (parts[3] === 'events' && parts.length === 4) return sendJson(res, await ctx.catalog.events(id));
  if (parts[3] === 'outputs' && parts.length > 4) {
    const { record, bytes } = await ctx.catalog.output(id, parts.slice(4).join('/'));
    return sendBytes(res, bytes, record.mime, record.path, url.searchParams.has('download'));
  }
  if (parts[3] === 'inputs' && parts.length === 5) {
    // Only an attachment this run's inputs name: the cid alone would open any stored bytes.
    const { inputs } = await ctx.catalog.show(id);
    const ref = collectArtifactRefs(inputs).find((r) => r.cid === parts[4]);
    if (!ref) return sendText(res, 404, `execution ${id} has no attachment ${parts[4]}`);
    return sendBytes(res, await ctx.catalog.verified(ref.$artifact, ref.cid), ref.mime, ref.$artifact, url.searchParams.has('download'));
  }
  return sendText(res, 404, 'not found');
}

function filterFrom(params: URLSearchParams): RunFilter {
  const get = (name: string) => params.get(name) || undefined;
  const since = get('since');
  const until = get('until');
  const limit = Number(get('limit') ?? 200);
  return {
    ...(get('ref') && { ref: get('ref') as string }),
    ...(get('status') && { status: get('status') as RunStatus }),
    ...(get('mode') && { mode: get('mode') as string }),
    ...(get('error_code') && { errorCode: get('error_code') as string }),
    ...(since && { since: parseTime('since', since) }),
    ...(until && { until: parseTime('until', until) }),
    ...(Number.isInteger(limit) && limit > 0 && { limit }),
  };
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

async function sendAsset(res: ServerResponse, file: string): Promise<void> {
  const bytes = await readFile(`${ASSET_DIR}${file}`);
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'content-type': ASSET_TYPES[file.split('.').pop() as string] as string,
    // Only this server's own files, no inline script, nothing from elsewhere.
    'content-security-policy': "default-src 'self'; img-src 'self' blob:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
  });
  res.end(bytes);
}

function sendBytes(res: ServerResponse, bytes: Buffer, mime: string, key: string, download: boolean): void {
  const name = key.split('/').pop() as string;
  const inline = !download && INLINE.test(mime);
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'content-type': inline ? mime : 'application/octet-stream',
    'content-length': bytes.byteLength,
    'content-disposition': `${inline ? 'inline' : 'attachment'}; filename="${name.replace(/[^A-Za-z0-9._-]/g, '_')}"`,
    'content-security-policy': 'sandbox',
  });
  res.end(bytes);
}

function sendJson(res: ServerResponse, value: unknown): void {
  res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'application/json' });
  res.end(canonicalJson(value));
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' });
  res.end(`${text}\n`);
}

function sendError(res: ServerResponse, err: ProcctlError): void {
  if (res.headersSent) return void res.destroy();
  const status = err.code === 'ERR_RUN_NOT_FOUND' ? 404 : err.exitCode === 2 || err.exitCode === 3 ? 400 : 500;
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json' });
  res.end(canonicalJson({ error: { code: err.code, message: err.message } }));
}
