#!/usr/bin/env node
// `npm run bench -- NAME` runs bench/NAME.js from the compiled tree; with no name it lists them.
// `npm run bench -- NAME --node PATH` runs it with another node binary (e.g. the Node 24 that
// `bash .ci/node.sh 24` installs): every process the bench starts then runs on that Node too.
import { existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { takeNodeFlag } from './node-flag.mjs';

const args = process.argv.slice(2);
const node = takeNodeFlag(args, 'usage: npm run bench -- NAME [--node PATH]');
const name = args[0];
const available = existsSync('dist/bench') ? readdirSync('dist/bench').filter((f) => f.endsWith('.js')).map((f) => f.slice(0, -3)) : [];
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- NAME [--node PATH]   (available: ${available.join(', ') || 'none; run npm run build'})`);
  process.exit(name ? 2 : 0);
}
const result = spawnSync(node, [`dist/bench/${name}.js`, ...args.slice(1)], { stdio: 'inherit' });
if (result.error) console.error(`run-bench: cannot run ${node}: ${result.error.message}`);
process.exit(result.status ?? 1);
