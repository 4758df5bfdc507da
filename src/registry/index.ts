export * from './entry.js';
export * from './entry-schema.js';
export * from './ref.js';
export * from './registry.js';
