export * from './deployments.js';
export * from './names.js';
export { loadModal, modalError } from './sdk.js';
