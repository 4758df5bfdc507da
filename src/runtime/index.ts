export * from './server.js';
export * from './config.js';
