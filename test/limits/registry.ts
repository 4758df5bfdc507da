/** The registry of the limit tests: testing/spin@1 (test/fixtures/limits-registry). */
import { join } from 'node:path';
import { FIXTURES } from '../helpers/paths.js';

export const LIMITS_REGISTRY = join(FIXTURES, 'limits-registry');
