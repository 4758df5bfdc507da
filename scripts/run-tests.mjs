#!/usr/bin/env node
// Runs every compiled test file under dist/test with node's built-in runner. Node 20 does not
// expand globs for --test, so the file list is gathered here. Extra arguments pass through
// (e.g. `npm test -- --test-name-pattern=registry`); a path argument narrows the files.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function collect(dir) {
  const found = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) found.push(...collect(full));
    else if (name.endsWith('.test.js')) found.push(full);
  }
  return found;
}

const args = process.argv.slice(2);
const filters = args.filter((a) => !a.startsWith('--'));
const flags = args.filter((a) => a.startsWith('--'));
const files = collect('dist/test').filter((f) => filters.length === 0 || filters.some((p) => f.includes(p)));
if (files.length === 0) {
  console.error('run-tests: no compiled test files matched; run `npm run build` first');
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=300000', ...flags, ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
