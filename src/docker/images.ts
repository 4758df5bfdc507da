/**
 * Processor images: built from the local base image and this package, pushed to the OCI registry
 * the entry names, and pinned by manifest digest in the registry entry. Runs only ever use the
 * `repository@sha256:…` reference.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcctlError } from '../contracts/errors.js';
import { CONTENT_ID_PATTERN } from '../contracts/content-id.js';
import type { RegistrySnapshot } from '../registry/registry.js';
import { describeEngineError, engine, followProgress, requireEngine, statusOf } from './engine.js';
import { inspectImage } from './engine-api.js';
import { IMAGE_PACKAGE_PATHS, PACKAGE_ROOT, productionDependencyDirs } from './package-files.js';

export const BASE_IMAGE = 'procctl/node-base:20';
export const RUNTIME_PORT = 8080;
const BASE_BUILD_SCRIPT = join(PACKAGE_ROOT, 'images', 'base', 'build.sh');

/**
 * Where long work reports. Without `live` a message is a milestone (a line); with it, an update
 * of the step under way that a terminal may draw as a live line and a pipe drops.
 */
export type Progress = (message: string, live?: LiveProgress) => void;

export interface LiveProgress {
  current?: number;
  total?: number;
}

/** Turns the engine's JSON progress events into live updates: layer bytes summed, or build steps. */
function liveFrom(label: string, progress: Progress): (event: Record<string, unknown>) => void {
  const layers = new Map<string, { current: number; total: number }>();
  return (event) => {
    const step = typeof event['stream'] === 'string' ? /^Step (\d+)\/(\d+) : (.*)/.exec(event['stream']) : null;
    if (step) return progress(`${label}: step ${step[1]}/${step[2]} ${(step[3] as string).trim()}`, { current: Number(step[1]), total: Number(step[2]) });
    const detail = event['progressDetail'] as { current?: number; total?: number } | undefined;
    if (typeof event['id'] === 'string' && detail && typeof detail.total === 'number' && detail.total > 0) layers.set(event['id'], { current: detail.current ?? 0, total: detail.total });
    let current = 0;
    let total = 0;
    for (const layer of layers.values()) {
      current += layer.current;
      total += layer.total;
    }
    progress(`${label}${total > 0 ? ` ${(current / 1048576).toFixed(1)}/${(total / 1048576).toFixed(1)} MiB` : typeof event['status'] === 'string' ? `: ${event['status']}` : ''}`, total > 0 ? { current, total } : {});
  };
}

function dockerfile(snapshot: RegistrySnapshot, withUserHandler: boolean): string {
  return [
    `FROM ${BASE_IMAGE}`,
    'COPY app/ /app/',
    `ENV PROCCTL_RUNTIME_HOST=0.0.0.0 PROCCTL_RUNTIME_PORT=${RUNTIME_PORT} PROCCTL_RUNTIME_LOG_RUNS=1 NODE_ENV=production${withUserHandler ? ' PROCCTL_REGISTRY=/app/registry' : ''}`,
    `EXPOSE ${RUNTIME_PORT}`,
    `LABEL procctl.ref="${snapshot.ref}" procctl.slug="${snapshot.slug}"`,
    'ENTRYPOINT ["node", "/app/dist/src/cli/procctl-runtime.js"]',
    '',
  ].join('\n');
}

async function ensureBaseImage(progress: Progress): Promise<void> {
  try {
    await engine().getImage(BASE_IMAGE).inspect();
    return;
  } catch (err) {
    if (statusOf(err) !== 404) throw err;
  }
  progress(`base image ${BASE_IMAGE} missing; building it with ${BASE_BUILD_SCRIPT}`);
  const result = spawnSync('bash', [BASE_BUILD_SCRIPT], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) throw new ProcctlError('ERR_IMAGE_BUILD', `building ${BASE_IMAGE} failed (exit ${result.status}); see the output above`);
}

/** Lays out the build context: the Dockerfile and app/ with the package's runtime files. */
function buildContext(snapshot: RegistrySnapshot, registryDir: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'procctl-image-'));
  const app = join(dir, 'app');
  for (const path of [...IMAGE_PACKAGE_PATHS, ...productionDependencyDirs()]) {
    cpSync(join(PACKAGE_ROOT, path), join(app, path), { recursive: true, dereference: true });
  }
  const userHandler = join(registryDir, snapshot.slug, 'handler.js');
  const withUserHandler = existsSync(userHandler);
  if (withUserHandler) cpSync(join(registryDir, snapshot.slug), join(app, 'registry', snapshot.slug), { recursive: true });
  writeFileSync(join(dir, 'Dockerfile'), dockerfile(snapshot, withUserHandler));
  return dir;
}

/** Builds the image for one processor and tags it `<repository>:latest`. */
export async function buildImage(snapshot: RegistrySnapshot, registryDir: string, progress: Progress = () => undefined): Promise<string> {
  await requireEngine();
  await ensureBaseImage(progress);
  const tag = `${snapshot.entry.image.repository}:latest`;
  const context = buildContext(snapshot, registryDir);
  try {
    progress(`building ${tag}`);
    const stream = await engine().buildImage({ context, src: ['Dockerfile', 'app'] }, { t: tag, rm: true, forcerm: true, version: '1' });
    await followProgress(stream, liveFrom(`building ${tag}`, progress));
  } catch (err) {
    throw new ProcctlError('ERR_IMAGE_BUILD', `building ${tag} failed: ${describeEngineError(err)}`, { tag }, { cause: err });
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
  return tag;
}

/** Pushes a tag and returns the manifest digest the registry stored. */
export async function pushImage(tag: string, progress: Progress = () => undefined): Promise<string> {
  progress(`pushing ${tag}`);
  let events: Record<string, unknown>[];
  try {
    // The engine insists on an X-Registry-Auth header even for a registry without auth.
    const stream = await engine().getImage(tag).push({ authconfig: {} } as never);
    events = await followProgress(stream as unknown as NodeJS.ReadableStream, liveFrom(`pushing ${tag}`, progress));
  } catch (err) {
    throw new ProcctlError('ERR_IMAGE_BUILD', `pushing ${tag} failed: ${describeEngineError(err)}`, { tag }, { cause: err });
  }
  const digest = events.map((e) => (e['aux'] as { Digest?: string } | undefined)?.Digest).find((d) => typeof d === 'string' && CONTENT_ID_PATTERN.test(d));
  if (!digest) throw new ProcctlError('ERR_IMAGE_BUILD', `pushing ${tag} reported no digest`, { tag });
  return digest;
}

/**
 * Pulls `repository@digest`. A digest the registry does not hold (or a registry that is down) is
 * ERR_IMAGE_PULL with the registry's own words.
 */
export async function pullByDigest(reference: string, progress: Progress = () => undefined): Promise<void> {
  try {
    await inspectImage(reference);
    return; // already local: a digest names exactly one image
  } catch (err) {
    if (statusOf(err) !== 404) throw new ProcctlError('ERR_DOCKER_UNAVAILABLE', `cannot inspect ${reference}: ${describeEngineError(err)}`, undefined, { cause: err });
  }
  progress(`pulling ${reference}`);
  try {
    const stream = (await engine().pull(reference, {})) as unknown as NodeJS.ReadableStream;
    await followProgress(stream, liveFrom(`pulling ${reference}`, progress));
  } catch (err) {
    throw new ProcctlError('ERR_IMAGE_PULL', `cannot pull ${reference}: ${describeEngineError(err)}`, { reference, reason: describeEngineError(err) }, { cause: err });
  }
}

/** Writes the digest into the entry file for the platform, keeping the file's comments and layout. */
export async function pinDigest(entryFile: string, platform: string, digest: string): Promise<void> {
  const { isMap, parseDocument } = await import('yaml');
  const doc = parseDocument(readFileSync(entryFile, 'utf8'));
  doc.setIn(['image', 'digests', platform], digest);
  // One pin per line (`digests: {}` starts out as a flow map), the rest of the file as written.
  const digests = doc.getIn(['image', 'digests'], true);
  if (isMap(digests)) digests.flow = false;
  writeFileSync(entryFile, doc.toString({ flowCollectionPadding: false }));
}
