export * from './constants.js';
export * from './frames.js';
export * from './health.js';
export * from './client.js';
export { isStale, type InvokeReply, type ReceivedOutput } from './client-connection.js';
