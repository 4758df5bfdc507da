/**
 * Modal test support: the stand-in (tools/modal-standin) started in this process, and `modalctl`
 * run as a real child process against it — configured only as a user configures the SDK for real
 * Modal (MODAL_SERVER_URL, MODAL_TOKEN_ID / MODAL_TOKEN_SECRET) plus the tunnels' test CA.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before } from 'node:test';
import { join } from 'node:path';
import { startModalStandin, type ModalStandin } from '../../tools/modal-standin/server.js';
import type { Envelope, ErrorEnvelope } from '../../src/index.js';
import { cleanEnv, runCli, tempDir, type CliResult } from './cli.js';
import { dockerAnswers, pinnedRegistry } from './docker.js';
import { startOpenAiServer, type OpenAiServer } from './openai-server.js';
import { MODALCTL_BIN } from './paths.js';

export const TOKEN_ID = 'ak-standin-test';
export const TOKEN_SECRET = 'as-standin-test';

export interface StandinHarness {
  standin: ModalStandin;
  requestLog: string;
  /** The environment a shell pointed at the stand-in has. */
  env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  modalctl(args: string[], options?: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string }): Promise<CliResult>;
  /** Every RPC the stand-in answered, decoded. */
  requests(): { method: string; request: unknown; line: string }[];
}

export async function startStandinHarness(registryDir: string, environments: string[]): Promise<StandinHarness> {
  const requestLog = join(tempDir('procctl-modal-log-'), 'requests.jsonl');
  const standin = await startModalStandin({ tokenId: TOKEN_ID, tokenSecret: TOKEN_SECRET, environments, requestLog });
  // No ~/.modal.toml of the developer's leaks in: a config path that does not exist.
  const env = (extra: NodeJS.ProcessEnv = {}) => {
    const base = cleanEnv({ PROCCTL_REGISTRY: registryDir, MODAL_SERVER_URL: standin.url, MODAL_TOKEN_ID: TOKEN_ID, MODAL_TOKEN_SECRET: TOKEN_SECRET, MODAL_CONFIG_PATH: join(tempDir(), 'no-modal.toml'), NODE_EXTRA_CA_CERTS: standin.caFile });
    for (const name of ['GIT_BRANCH', 'GIT_USER', 'MODAL_PROFILE', 'MODAL_ENVIRONMENT']) delete base[name];
    return { ...base, ...extra };
  };
  return {
    standin,
    requestLog,
    env,
    modalctl: (args, options = {}) => runCli(args, { bin: MODALCTL_BIN, env: options.env ?? env(), ...(options.cwd && { cwd: options.cwd }), ...(options.input !== undefined && { input: options.input }) }),
    requests: () =>
      readFileSync(requestLog, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => ({ ...(JSON.parse(line) as { method: string; request: unknown }), line })),
  };
}

export const ECHO_A = '{"schema":"v1","params":{"outputs":[{"path":"a.txt","text":"a"}]}}';

export function envelopeOf(result: CliResult): Envelope {
  const line = result.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as Envelope;
  } catch {
    throw new Error(`no envelope on stdout (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
}

export function failure(result: CliResult): ErrorEnvelope['error'] {
  const envelope = envelopeOf(result);
  assert.equal(envelope.status, 'error', result.stdout);
  return (envelope as ErrorEnvelope).error;
}

/** No raw SDK or gRPC error reaches a user: a typed line, no stack. */
export function assertTyped(result: CliResult, code: string): void {
  assert.match(result.stderr + result.stdout, new RegExp(code));
  assert.doesNotMatch(result.stderr + result.stdout, /ClientError|\n\s+at .+:\d+:\d+\)?\n|\/nice-grpc\//, 'no raw gRPC error or stack trace');
}


export interface StandinSuite {
  registry: string;
  h: StandinHarness;
  /** An OpenAI-compatible provider the real sandboxes reach as host.docker.internal. */
  provider: OpenAiServer;
}

/** Registers before/after hooks for a suite: the pinned registry, a stand-in with these environments, a provider. */
export function standinSuite(environments: string[]): StandinSuite {
  const suite = {} as StandinSuite;
  before(async () => {
    if (!(await dockerAnswers())) return;
    suite.registry = await pinnedRegistry();
    suite.h = await startStandinHarness(suite.registry, environments);
    // Bound to all interfaces: sandboxes reach the host through the bridge, not loopback.
    suite.provider = await startOpenAiServer('0.0.0.0');
  });
  after(async () => {
    await suite.h?.standin.close();
    await suite.provider?.close();
  });
  return suite;
}
