export * from './build-and-pin.js';
export * from './containers.js';
export * from './pinned.js';
export * from './engine.js';
export * from './images.js';
export * from './labels.js';
export * from './logs.js';
export * from './network.js';
