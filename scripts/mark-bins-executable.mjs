#!/usr/bin/env node
// tsc writes files 0644, and npm links (and chmods) a package's own bins before `prepare` has
// built them, so `npx procctl` in a fresh clone would find a file it may not execute. After every
// build, each bin in package.json is made executable.
import { chmodSync, readFileSync } from 'node:fs';

const { bin } = JSON.parse(readFileSync('package.json', 'utf8'));
for (const file of Object.values(bin ?? {})) chmodSync(file, 0o755);
