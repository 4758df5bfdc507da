/**
 * An adapter for a processor runtime that is already running somewhere, reached by URL and bearer
 * token. Placements that start runtimes (a local child process, a container, a remote sandbox)
 * start theirs and hand over to this; it speaks the protocol and turns every failure into an
 * error envelope, as the adapter contract asks.
 */
import { failureFor } from './envelope-for.js';
import { invocationFacts } from './invocation.js';
import type { Adapter, InvokeArgs } from './types.js';
import { RuntimeClient, type RuntimeClientOptions } from '../protocol/client.js';
import type { Envelope } from '../contracts/envelope.js';

export interface RuntimeAdapterOptions extends RuntimeClientOptions {
  /** The adapter's name in receipts (default "runtime"). */
  name?: string;
}

export class RuntimeAdapter implements Adapter {
  readonly name: string;
  readonly client: RuntimeClient;

  constructor(options: RuntimeAdapterOptions) {
    this.name = options.name ?? 'runtime';
    this.client = new RuntimeClient(options);
  }

  async invoke(args: InvokeArgs): Promise<Envelope> {
    try {
      return await this.client.invoke(args, args.adapterOpts);
    } catch (err) {
      return failureFor(invocationFacts(args), err);
    }
  }

  /** Closes idle connections; optional (they never keep the process alive). */
  close(): void {
    this.client.close();
  }
}
