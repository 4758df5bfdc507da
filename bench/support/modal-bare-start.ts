/**
 * The baseline of `npm run bench -- modal`'s start_ratio: the bare Modal SDK doing what a start
 * must — App, image by digest, a sandbox running procctl-runtime with an encrypted port, its
 * tunnel, the first /healthz answer — in a fresh process, like a `modalctl start`. Prints the
 * sandbox id. Args: env, image reference, digest, sandbox name.
 */
import { randomBytes } from 'node:crypto';
import { request } from 'node:https';
import { ModalClient } from 'modal';

const [env, reference, digest, name] = process.argv.slice(2) as [string, string, string, string];
const client = new ModalClient({ environment: env });
const app = await client.apps.fromName(`procctl-${env}`, { environment: env, createIfMissing: true });
const image = client.images.fromRegistry(reference);
const sandbox = await client.sandboxes.create(app, image, {
  name,
  command: ['node', '/app/dist/src/cli/procctl-runtime.js'],
  env: { PROCCTL_RUNTIME_TOKEN: randomBytes(32).toString('base64url'), PROCCTL_IMAGE_DIGEST: digest, PROCCTL_RUNTIME_HOST: '0.0.0.0', PROCCTL_RUNTIME_PORT: '8080' },
  encryptedPorts: [8080],
  outboundCidrAllowlist: [],
  timeoutMs: 600_000,
});
const url = (await sandbox.tunnels())[8080]?.url ?? '';
const healthy = () => new Promise<boolean>((resolve) => request(`${url}/healthz`, { agent: false }, (res) => (res.resume(), resolve(res.statusCode === 200))).on('error', () => resolve(false)).end());
while (!(await healthy())) await new Promise((r) => setTimeout(r, 25));
process.stdout.write(`${sandbox.sandboxId}\n`);
client.close();
