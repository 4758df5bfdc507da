export * from './canonical-json.js';
export * from './content-id.js';
export * from './envelope.js';
export * from './errors.js';
export * from './inputs.js';
export * from './platform.js';
export * from './schemas.js';
export * from './validator.js';
