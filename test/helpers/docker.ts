/**
 * Docker test support. Docker tests run wherever an engine answers; without one they skip (and say
 * so) only outside CI — under CI=true a missing engine fails them, because .ci/run starts one.
 */
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { buildAndPin, engine, Registry } from '../../src/index.js';
import { FIXTURE_REGISTRY, REPO_ROOT } from './paths.js';

let available: Promise<boolean> | undefined;

/**
 * `scripts/run-tests.mjs --no-docker` (PROCCTL_TEST_DOCKER=off) runs the suite on another Node
 * version while the full pass, Docker tests included, runs on the machine's Node: there the Docker
 * tests skip, saying so, in CI too.
 */
export const DOCKER_TESTS_OFF = process.env['PROCCTL_TEST_DOCKER'] === 'off';
export const DOCKER_OFF_REASON = 'Docker tests are off in this pass (run-tests --no-docker, PROCCTL_TEST_DOCKER=off); the full pass runs them';

export function dockerAnswers(): Promise<boolean> {
  if (DOCKER_TESTS_OFF) return Promise.resolve(false);
  available ??= engine()
    .ping()
    .then(() => true, () => false);
  return available;
}

/** True when the test may go on; skips it (outside CI) or throws (in CI) when there is no engine. */
export async function needDocker(t: TestContext): Promise<boolean> {
  if (await dockerAnswers()) return true;
  if (DOCKER_TESTS_OFF) {
    t.skip(DOCKER_OFF_REASON);
    return false;
  }
  if (process.env['CI']) throw new Error('CI is set but no Docker engine answers: .ci/run should have started dockerd');
  t.skip('no Docker engine answers (start one with bash .ci/services.sh); skipped because CI is not set');
  return false;
}

let registry: Promise<string> | undefined;

/**
 * A private registry directory with llm/litellm@1 and the test echo processor, their images
 * freshly built, pushed to the local OCI registry and pinned. Digests are not reproducible across
 * builds, so tests never rely on the committed pins.
 */
export function pinnedRegistry(): Promise<string> {
  registry ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'procctl-docker-reg-'));
    cpSync(join(REPO_ROOT, 'processors'), dir, { recursive: true });
    cpSync(join(FIXTURE_REGISTRY, 'testing-echo-v1'), join(dir, 'testing-echo-v1'), { recursive: true });
    const reg = new Registry(dir);
    for (const ref of ['llm/litellm@1', 'testing/echo@1']) await buildAndPin(reg, ref);
    return dir;
  })();
  return registry;
}
