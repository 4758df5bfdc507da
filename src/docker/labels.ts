/**
 * Container labels are procctl's only state: any shell, or a restarted CLI, finds the same
 * containers by asking the engine, so nothing can drift out of step with what is running.
 */
import type { Mode } from '../contracts/inputs.js';

export const LABEL = {
  managed: 'procctl.managed',
  ref: 'procctl.ref',
  slug: 'procctl.slug',
  mode: 'procctl.mode',
  digest: 'procctl.digest',
  scope: 'procctl.scope',
  /** The names (never the values) of the secrets and config passed in, comma-separated. */
  passed: 'procctl.passed',
} as const;

export type Scope = 'started' | 'ephemeral';

export function containerLabels(ref: string, slug: string, mode: Mode, digest: string, scope: Scope, passed: string[]): Record<string, string> {
  return { [LABEL.managed]: '1', [LABEL.ref]: ref, [LABEL.slug]: slug, [LABEL.mode]: mode, [LABEL.digest]: digest, [LABEL.scope]: scope, [LABEL.passed]: [...passed].sort().join(',') };
}

/** Started containers have a stable name, so a second `start` finds the first. */
export function startedContainerName(slug: string, mode: Mode): string {
  return `procctl-${slug}-${mode}`;
}
