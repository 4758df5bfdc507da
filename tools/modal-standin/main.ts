#!/usr/bin/env node
/**
 * Runs the Modal stand-in by hand:
 *
 *   npm run modal-standin -- [--port 50051] [--env main,dev] [--request-log FILE]
 *
 * It prints one JSON line with the settings a shell needs (MODAL_SERVER_URL, MODAL_TOKEN_ID,
 * MODAL_TOKEN_SECRET, NODE_EXTRA_CA_CERTS), then logs sandboxes starting and ending on stderr.
 * Ctrl-C stops it and removes the containers it started.
 */
import { parseArgs } from 'node:util';
import { startModalStandin } from './server.js';

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' }, env: { type: 'string', default: 'main,dev' }, 'request-log': { type: 'string' }, 'token-id': { type: 'string', default: 'ak-standin' }, 'token-secret': { type: 'string', default: 'as-standin' } } });
const standin = await startModalStandin({
  tokenId: values['token-id'] as string,
  tokenSecret: values['token-secret'] as string,
  environments: (values.env as string).split(',').filter(Boolean),
  port: Number(values.port),
  ...(values['request-log'] && { requestLog: values['request-log'] }),
  log: (line) => process.stderr.write(`${line}\n`),
});
process.stdout.write(`${JSON.stringify({ event: 'listening', MODAL_SERVER_URL: standin.url, MODAL_TOKEN_ID: values['token-id'], MODAL_TOKEN_SECRET: values['token-secret'], NODE_EXTRA_CA_CERTS: standin.caFile })}\n`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void standin.close().then(() => process.exit(0));
  });
}
