/** The library API: everything the CLI does is available from here. */
export * from './contracts/index.js';
export * from './registry/index.js';
export * from './artifacts/index.js';
export * from './sdk/index.js';
export * from './adapters/types.js';
export * from './adapters/envelope-for.js';
export * from './adapters/local/in-process.js';
export * from './execution/run-handler.js';
export * from './execution/load-processor.js';
export { run, type RunOptions, type RunResult } from './api/run.js';
export * from './api/secrets.js';
export * from './api/store-from-location.js';
export * from './api/exported-schemas.js';
