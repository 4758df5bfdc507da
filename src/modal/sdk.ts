/**
 * Modal's own SDK (`modal`, pinned to 0.11.1), loaded lazily: only commands that talk to Modal pay
 * for it, so a mock `procctl run` never loads gRPC. The client is configured only by the SDK's
 * documented settings (MODAL_TOKEN_ID / MODAL_TOKEN_SECRET, ~/.modal.toml or MODAL_CONFIG_PATH,
 * MODAL_PROFILE, MODAL_SERVER_URL); `environment` picks the Modal environment.
 *
 * Every failure the SDK raises leaves this folder as a ProcctlError: its raw gRPC ClientError (a
 * refused token is one) never reaches a user.
 */
import type * as ModalSdk from 'modal';
import { ProcctlError } from '../contracts/errors.js';

export type Modal = typeof ModalSdk;
export type ModalClient = ModalSdk.ModalClient;
export type Sandbox = ModalSdk.Sandbox;

let loaded: Promise<Modal> | undefined;

export function loadModal(): Promise<Modal> {
  loaded ??= import('modal');
  return loaded;
}

/** gRPC status codes the SDK lets through as nice-grpc ClientErrors. */
const GRPC = { DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6, PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8, UNAVAILABLE: 14, UNAUTHENTICATED: 16 } as const;

/** The server the SDK will talk to, for messages (it reads the same setting). */
export function serverUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env['MODAL_SERVER_URL'] || 'the server in your Modal profile (default https://api.modal.com)';
}

/**
 * A client for one Modal environment. Short retries: an unreachable Modal must fail within
 * seconds, not after the SDK's default back-off.
 */
export async function modalClient(environment: string, env: NodeJS.ProcessEnv = process.env): Promise<ModalClient> {
  const modal = await loadModal();
  let client: ModalClient;
  try {
    client = new modal.ModalClient({ environment, timeoutMs: 15_000, maxRetries: 1 });
  } catch (err) {
    throw modalError(err, 'configuring the Modal client', env);
  }
  const profile = (client as unknown as { profile: { tokenId?: string; tokenSecret?: string; oauthRefreshToken?: string } }).profile;
  if (!(profile.tokenId && profile.tokenSecret) && !profile.oauthRefreshToken) {
    client.close();
    throw new ProcctlError('ERR_MODAL_AUTH', `no Modal credentials: ${CREDENTIALS_HINT}`);
  }
  return client;
}

const CREDENTIALS_HINT = 'set MODAL_TOKEN_ID and MODAL_TOKEN_SECRET, or run `modal token new` for a profile in ~/.modal.toml (MODAL_PROFILE picks one)';

const isGrpc = (err: unknown): err is { code: number; details: string; message: string } =>
  typeof err === 'object' && err !== null && (err as { name?: string }).name === 'ClientError' && typeof (err as { code?: unknown }).code === 'number';

/** Whether an SDK error means "there is no such object" (the typed NotFoundError, or a raw NOT_FOUND). */
export function isNotFound(err: unknown): boolean {
  return (err as { name?: string }).name === 'NotFoundError' || (isGrpc(err) && err.code === GRPC.NOT_FOUND);
}

export function isAlreadyExists(err: unknown): boolean {
  return (err as { name?: string }).name === 'AlreadyExistsError' || (isGrpc(err) && err.code === GRPC.ALREADY_EXISTS);
}

/** Turns anything the SDK threw while `doing` into a typed error naming what to fix. */
export function modalError(err: unknown, doing: string, env: NodeJS.ProcessEnv = process.env): ProcctlError {
  if (err instanceof ProcctlError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const details = isGrpc(err) ? err.details || err.message : message;
  if (isGrpc(err)) {
    if (err.code === GRPC.UNAUTHENTICATED || err.code === GRPC.PERMISSION_DENIED) {
      return new ProcctlError('ERR_MODAL_AUTH', `Modal refused the credentials while ${doing} (${details}); ${CREDENTIALS_HINT}`, { grpc_code: err.code });
    }
    if (err.code === GRPC.UNAVAILABLE || err.code === GRPC.DEADLINE_EXCEEDED) {
      return new ProcctlError('ERR_MODAL_UNAVAILABLE', `Modal at ${serverUrl(env)} cannot be reached while ${doing} (${details})`, { grpc_code: err.code });
    }
    return new ProcctlError('ERR_INTERNAL', `Modal answered ${doing} with gRPC status ${err.code}: ${details}`, { grpc_code: err.code });
  }
  return new ProcctlError('ERR_INTERNAL', `Modal failed while ${doing}: ${message.split('\n')[0]}`);
}

/** Runs one SDK call, translating whatever it throws. */
export async function call<T>(doing: string, fn: () => Promise<T>, env?: NodeJS.ProcessEnv): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw modalError(err, doing, env);
  }
}
