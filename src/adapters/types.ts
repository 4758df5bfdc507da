/**
 * The uniform adapter call. Every placement — in-process, a local container, Modal, Kubernetes —
 * takes exactly these arguments and returns an envelope; failures come back as error envelopes,
 * not exceptions, so callers handle one shape.
 */
import type { Envelope } from '../contracts/envelope.js';
import type { InputsV1 } from '../contracts/inputs.js';
import type { RegistrySnapshot } from '../registry/registry.js';
import type { ProcessorEvent } from '../sdk/index.js';

export interface AdapterOpts {
  /** Streamed handler events (logs, tokens, progress). */
  onEvent?: (event: ProcessorEvent) => void;
  /** Cancels the execution. */
  signal?: AbortSignal;
  /** Shortens the registry's `timeout_s` for this call. */
  timeoutS?: number;
}

export interface InvokeArgs {
  processorRef: string;
  /** Inputs v1; `mode` must be set — adapters never guess it from the environment. */
  inputsJson: InputsV1;
  /** A template containing `{execution_id}`. */
  writePrefix: string;
  executionId: string;
  registrySnapshot: RegistrySnapshot;
  adapterOpts: AdapterOpts;
  /** Names of the secrets available to the placement. Never values. */
  secretsPresent: string[];
}

export interface Adapter {
  readonly name: string;
  invoke(args: InvokeArgs): Promise<Envelope>;
}
