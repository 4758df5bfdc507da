import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { REPO_ROOT } from './helpers/paths.js';

it('builds every bin as an executable file, so npx can run it', () => {
  const { bin } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  assert.ok(Object.keys(bin).length >= 4);
  for (const [name, file] of Object.entries(bin)) {
    const mode = statSync(join(REPO_ROOT, file)).mode;
    assert.equal(mode & 0o111, 0o111, `${name} (${file}) is not executable`);
    assert.match(readFileSync(join(REPO_ROOT, file), 'utf8'), /^#!\/usr\/bin\/env node\n/, `${name} has no node shebang`);
  }
});
