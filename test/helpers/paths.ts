/** Locations tests need, resolved from the compiled test file back to the repository. */
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));
export const FIXTURE_REGISTRY = fileURLToPath(new URL('../../../test/fixtures/registry/', import.meta.url));
export const GOLDEN = fileURLToPath(new URL('../../../test/golden/', import.meta.url));
export const PROCCTL_BIN = fileURLToPath(new URL('../../src/cli/procctl.js', import.meta.url));
export const LOCALCTL_BIN = fileURLToPath(new URL('../../src/cli/localctl.js', import.meta.url));
export const MODALCTL_BIN = fileURLToPath(new URL('../../src/cli/modalctl.js', import.meta.url));
