/**
 * Module resolution hooks, registered with node:module's `register` by package-resolution.ts.
 * They run on Node's loader thread: a bare `procctl` (or `procctl/…`) import from anywhere — a
 * user's handler.js in a `--registry` folder, which has no node_modules of its own — resolves as
 * if it were written inside the procctl package that is running, through that package's own
 * `exports`. Every other specifier resolves as Node always does.
 */
import type { InitializeHook, ResolveHook } from 'node:module';

let anchor: string | undefined;

export const initialize: InitializeHook<{ anchor: string }> = (data) => {
  anchor = data.anchor;
};

export const resolve: ResolveHook = (specifier, context, next) => {
  if (anchor !== undefined && (specifier === 'procctl' || specifier.startsWith('procctl/'))) return next(specifier, { ...context, parentURL: anchor });
  return next(specifier, context);
};
