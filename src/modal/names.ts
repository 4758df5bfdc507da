/**
 * Names on Modal. A deployment is a named Sandbox in the App `procctl-<env>` of the Modal
 * environment `<env>`; its name comes from the processor, the mode and — so two people's or two
 * branches' deployments never collide — GIT_BRANCH and GIT_USER when set. Modal's rule for object
 * names: only `[A-Za-z0-9._-]`, shorter than 64 characters; a name that would be longer keeps a
 * readable head and ends in a stable hash of the whole.
 */
import { createHash } from 'node:crypto';
import { ProcctlError } from '../contracts/errors.js';
import type { Mode } from '../contracts/inputs.js';

export const MAX_NAME_LENGTH = 63;
const NAME_PATTERN = /^[A-Za-z0-9._-]{1,63}$/;
const HASH_LENGTH = 10;

/** Any text as a Modal name: kept as is when valid, else cleaned (other characters become `-`), cut to fit and ended with a stable hash of the whole. */
export function modalName(...parts: string[]): string {
  const whole = parts.filter((p) => p !== '').join('-');
  if (NAME_PATTERN.test(whole)) return whole;
  const cleaned = whole.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');
  return `${cleaned.slice(0, MAX_NAME_LENGTH - HASH_LENGTH - 1).replace(/-+$/, '')}-${hash(whole)}`;
}

function hash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, HASH_LENGTH);
}

export function isModalName(name: string): boolean {
  return NAME_PATTERN.test(name);
}

/** `--env`: a Modal environment name, used as is (never rewritten: it must name a real environment). */
export function checkEnvironment(env: string): string {
  if (!isModalName(env)) throw new ProcctlError('ERR_USAGE', `--env ${JSON.stringify(env)} is not a Modal environment name (letters, digits, '.', '_', '-'; under 64 characters)`);
  return env;
}

export function appName(env: string): string {
  return modalName('procctl', env);
}

/** Who a deployment belongs to, from the environment (seed 000's GIT_BRANCH / GIT_USER). */
export function ownerParts(env: NodeJS.ProcessEnv): string[] {
  return [env['GIT_BRANCH'] ?? '', env['GIT_USER'] ?? ''].map((p) => p.trim()).filter(Boolean);
}

export function sandboxName(slug: string, mode: Mode, env: NodeJS.ProcessEnv): string {
  return modalName('procctl', slug, mode, ...ownerParts(env));
}

/** One Modal Secret per processor (per environment: secrets live in the Modal environment). */
export function secretName(slug: string): string {
  return modalName('procctl', slug);
}

/** Sandbox tags: what procctl knows about a deployment lives on Modal, never only in a local file. */
export const TAG = {
  managed: 'procctl.managed',
  ref: 'procctl.ref',
  mode: 'procctl.mode',
  digest: 'procctl.digest',
  owner: 'procctl.owner',
  created: 'procctl.created',
  expires: 'procctl.expires',
  /**
   * The runtime's bearer token, so another shell can reach the deployment. Readable only with
   * this workspace's Modal credentials (which could exec into the sandbox anyway); never printed.
   */
  token: 'procctl.token',
} as const;
