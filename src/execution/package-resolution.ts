/**
 * User processors import the SDK as the README shows, `import { defineProcessor } from 'procctl'`,
 * from a registry folder anywhere on disk. Node would look for node_modules/procctl above that
 * folder and fail; these hooks make the import resolve to the procctl package that loads the
 * handler (the one whose runtime, SDK and types the handler runs under). `register` is Node's
 * supported mechanism on every version we support (20.19, 22, 24); it is installed once per
 * thread, and only when a handler from outside the package is loaded, so runs of built-in
 * processors never pay for the loader thread.
 */
import { register } from 'node:module';

let registered = false;

export function resolveProcctlForUserModules(): void {
  if (registered) return;
  registered = true;
  // Self-reference from a module inside this package: resolution then follows its package.json.
  register(new URL('./procctl-resolution-hooks.js', import.meta.url), { data: { anchor: import.meta.url } });
}
