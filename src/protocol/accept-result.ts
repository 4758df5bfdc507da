/**
 * The control plane's last step of a run: the runtime's result is checked against what the
 * client asked for and what it received, and the output bytes go into the artifact store — index
 * last, through the same writeOutputs the in-process placement uses. A store failure becomes an
 * error envelope with the runtime's meta, which is what the in-process placement would return.
 */
import { errorEnvelope, type Envelope } from '../contracts/envelope.js';
import { ProcctlError, toProcctlError } from '../contracts/errors.js';
import { indexKey, outputsKey, writeOutputs, type OutputPlan } from '../artifacts/outputs.js';
import { canonicalPath, resolveWritePrefix } from '../artifacts/paths.js';
import type { ArtifactStore } from '../artifacts/store.js';
import type { InvocationArgs } from '../adapters/invocation.js';
import type { InvokeReply } from './client-connection.js';

export async function acceptResult(store: ArtifactStore, args: InvocationArgs, reply: InvokeReply, url: string): Promise<Envelope> {
  const { envelope, outputs } = reply;
  const broken = (why: string) => new ProcctlError('ERR_PROTOCOL', `the processor runtime at ${url} returned a result that does not fit the invoke: ${why}`, { url });
  if (envelope.execution_id !== args.executionId || envelope.ref !== args.processorRef) {
    throw broken(`it is for ${envelope.ref} execution ${envelope.execution_id}, not ${args.processorRef} execution ${args.executionId}`);
  }
  if (envelope.status === 'error') {
    if (outputs.length > 0) throw broken(`${outputs.length} output(s) came with an error result`);
    return envelope;
  }
  const prefix = resolveWritePrefix(args.writePrefix, args.executionId);
  if (envelope.index_path !== indexKey(prefix)) throw broken(`index_path ${envelope.index_path} is not ${indexKey(prefix)}`);
  if (envelope.outputs.length !== outputs.length) throw broken(`the envelope lists ${envelope.outputs.length} output(s), ${outputs.length} arrived`);
  const plan: OutputPlan = { indexPath: envelope.index_path, outputs: [] };
  const under = outputsKey(prefix, '');
  envelope.outputs.forEach((listed, i) => {
    const got = outputs[i] as InvokeReply['outputs'][number];
    if (listed.path !== got.path || listed.cid !== got.cid || listed.size_bytes !== got.size_bytes || listed.mime !== got.mime) {
      throw broken(`output ${i} is listed as ${listed.path} (${listed.cid}) but arrived as ${got.path} (${got.cid})`);
    }
    const relative = got.path.startsWith(under) ? got.path.slice(under.length) : '';
    let canonical: string | undefined;
    try {
      canonical = canonicalPath(relative);
    } catch {
      canonical = undefined;
    }
    if (canonical !== relative) throw broken(`output path ${got.path} is not a canonical path under ${under}`);
    plan.outputs.push({ ...listed, relative, bytes: got.bytes });
  });
  try {
    await writeOutputs(store, plan, args.executionId, args.processorRef);
  } catch (err) {
    return errorEnvelope({ executionId: args.executionId, ref: args.processorRef, error: toProcctlError(err), meta: envelope.meta });
  }
  return envelope;
}
