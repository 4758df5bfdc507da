#!/usr/bin/env node
// `npm run bench -- NAME` runs bench/NAME.js from the compiled tree; with no name it lists them.
import { existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const name = process.argv[2];
const available = existsSync('dist/bench') ? readdirSync('dist/bench').filter((f) => f.endsWith('.js')).map((f) => f.slice(0, -3)) : [];
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- NAME   (available: ${available.join(', ') || 'none; run npm run build'})`);
  process.exit(name ? 2 : 0);
}
const result = spawnSync(process.execPath, [`dist/bench/${name}.js`, ...process.argv.slice(3)], { stdio: 'inherit' });
process.exit(result.status ?? 1);
