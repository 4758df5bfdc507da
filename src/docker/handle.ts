/** What procctl knows of a processor container: read from the engine, or remembered (started-cache.ts). */
import type { Mode } from '../contracts/inputs.js';
import type { Scope } from './labels.js';

export interface ContainerHandle {
  id: string;
  name: string;
  ref: string;
  mode: Mode;
  digest: string;
  scope: Scope;
  /** Base URL of the runtime, e.g. http://172.19.0.2:8080 or http://127.0.0.1:32768. */
  endpoint: string;
  token: string;
}
