/** Warm mock invokes of llm/litellm@1, timed: what the warm_invoke_ratio figures compare. */
import type { InvokeArgs, RegistrySnapshot } from '../../src/index.js';

export function mockInvokeArgs(snapshot: RegistrySnapshot, idPrefix: string): (i: number) => InvokeArgs {
  return (i) => ({
    processorRef: 'llm/litellm@1',
    inputsJson: { schema: 'v1', mode: 'mock', params: { messages: [{ role: 'user', content: `Hello ${i}` }] } },
    writePrefix: 'bench/{execution_id}/',
    executionId: `${idPrefix}-${i}`,
    registrySnapshot: snapshot,
    adapterOpts: {},
    secretsPresent: [],
  });
}

/** `count` invokes one after another; the first tenth warms the path and is left out. */
export async function warmLatencies(adapter: { invoke(a: InvokeArgs): Promise<{ status: string }> }, args: (i: number) => InvokeArgs, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const envelope = await adapter.invoke(args(i));
    times.push(performance.now() - t0);
    if (envelope.status !== 'success') throw new Error(`invoke failed: ${JSON.stringify(envelope)}`);
  }
  return times.slice(Math.floor(count / 10));
}
