#!/usr/bin/env node
// Runs every compiled test file under dist/test with node's built-in runner. Node 20 does not
// expand globs for --test, so the file list is gathered here. Extra arguments pass through
// (e.g. `npm test -- --test-name-pattern=registry`); a path argument narrows the files.
// Two flags of our own, for running the suite on another Node version (CI's Node 24 pass):
//   --node PATH    run the tests with that node binary instead of this one
//   --no-docker    Docker tests skip, saying so (PROCCTL_TEST_DOCKER=off), since the full pass on
//                  the machine's Node runs them against the one shared engine
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { takeNodeFlag } from './node-flag.mjs';

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
const node = takeNodeFlag(args, 'run-tests: --node needs the path of a node binary');
const noDocker = args.includes('--no-docker');
const rest = args.filter((a) => a !== '--no-docker');
const filters = rest.filter((a) => !a.startsWith('--'));
const flags = rest.filter((a) => a.startsWith('--'));
const files = collect('dist/test').filter((f) => filters.length === 0 || filters.some((p) => f.includes(p)));
if (files.length === 0) {
  console.error('run-tests: no compiled test files matched; run `npm run build` first');
  process.exit(1);
}
const env = noDocker ? { ...process.env, PROCCTL_TEST_DOCKER: 'off' } : process.env;
// The per-file time-out is a hang guard, not a timing test: a Docker, Modal or Kubernetes file builds
// and pins its images first, which on a loaded 2-core machine alone can take minutes.
const result = spawnSync(node, ['--test', '--test-concurrency=2', '--test-timeout=1200000', ...flags, ...files], { stdio: 'inherit', env });
if (result.error) console.error(`run-tests: cannot run ${node}: ${result.error.message}`);
process.exit(result.status ?? 1);
