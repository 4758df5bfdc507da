export * from './attachments.js';
export * from './fs-store.js';
export * from './mime.js';
export * from './outputs.js';
export * from './paths.js';
export * from './s3-location.js';
export * from './s3-store.js';
export * from './store.js';
