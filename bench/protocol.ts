/**
 * The runtime protocol over loopback: warm mock invokes of llm/litellm@1 against a runtime in a
 * child process, next to a bare `ws` echo round trip of a message the size of the invoke frame
 * (also in a child process), measured in the same run and interleaved so machine noise hits both.
 * An invoke here is the whole real path — frame, checks, handler, events, output bytes, result,
 * cid checks, outputs and index written to the store — with the store in memory. The same invoke
 * in-process (no protocol) is measured too, to show what the processor work alone costs:
 * `in_process_p50_ratio` (in-process over echo) is the floor under `p50_ratio`, since an invoke over
 * the protocol does all of that work and a round trip besides.
 * Goals (issue 12): `protocol_overhead_rtts` <= 2, what the protocol adds over the same invoke
 * in-process, in echo round trips: (invoke p50 - in-process p50) / echo p50; invokes_per_second
 * >= 10,000 with 64 in flight. (Issue 3's p50_ratio, over the echo alone, is printed too.)
 * Goal (issue 9): attachment_rss_ratio <= 1.3 (see the memory section at the end).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { InProcessAdapter, MemoryArtifactStore, Registry, RuntimeClient, startRuntimeProcess, type InvocationArgs } from '../src/index.js';
import { invokeFrameText } from '../src/protocol/invoke-frame.js';
import { contentId } from '../src/contracts/content-id.js';
import { percentile, ratio, report } from './stats.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 20);
const PER_ROUND = Number(process.env['BENCH_PER_ROUND'] ?? 200);
const IN_FLIGHT = 64;
const WARMUP = Number(process.env['BENCH_WARMUP'] ?? 3000);
const THROUGHPUT_INVOKES = Number(process.env['BENCH_INVOKES'] ?? 20_000);

const snapshot = new Registry().snapshot('llm/litellm@1');
const argsFor = (executionId: string): InvocationArgs => ({
  processorRef: 'llm/litellm@1',
  inputsJson: { schema: 'v1', mode: 'mock', params: { messages: [{ role: 'user', content: 'Hello' }] } },
  writePrefix: 'executions/{execution_id}/',
  executionId,
  registrySnapshot: snapshot,
  secretsPresent: [],
});

async function startEcho(): Promise<{ port: number; stop: () => void }> {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./support/echo-server.js', import.meta.url))], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString('utf8'))));
  return { port: (JSON.parse(line) as { port: number }).port, stop: () => child.kill('SIGTERM') };
}

const micros = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1000;

const runtime = await startRuntimeProcess({});
const echo = await startEcho();
const store = new MemoryArtifactStore();
const client = new RuntimeClient({ url: runtime.url, token: runtime.token, store, maxIdleConnections: IN_FLIGHT });
const ws = new WebSocket(`ws://127.0.0.1:${echo.port}`, { perMessageDeflate: false });
await new Promise((resolve) => ws.once('open', resolve));
// The echo carries what a warm invoke sends: the frame without the registry entry, which the
// connection carried in full on its first invoke.
const echoMessage = invokeFrameText(argsFor('bench-0000000'), [], undefined, false);

const echoOnce = () =>
  new Promise<void>((resolve) => {
    ws.once('message', () => resolve());
    ws.send(echoMessage);
  });

let seq = 0;
const invokeOnce = async () => {
  const envelope = await client.invoke(argsFor(`bench-${++seq}`));
  if (envelope.status !== 'success') throw new Error(`invoke failed: ${JSON.stringify(envelope)}`);
};

// For scale: the same invoke with no protocol at all (in-process placement, store in memory).
const inProcess = new InProcessAdapter({ store: new MemoryArtifactStore() });
const inProcessOnce = async () => {
  const envelope = await inProcess.invoke({ ...argsFor(`local-${++seq}`), adapterOpts: {} });
  if (envelope.status !== 'success') throw new Error(`in-process invoke failed: ${JSON.stringify(envelope)}`);
};

// Warm every path: JIT, the runtime's snapshot and validator caches, one pooled connection.
for (let i = 0; i < WARMUP; i++) {
  await echoOnce();
  await invokeOnce();
  await inProcessOnce();
}

const echoTimes: number[] = [];
const invokeTimes: number[] = [];
const inProcessTimes: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  for (let i = 0; i < PER_ROUND; i++) {
    const t0 = process.hrtime.bigint();
    await inProcessOnce();
    inProcessTimes.push(micros(t0));
  }
  for (let i = 0; i < PER_ROUND; i++) {
    const t0 = process.hrtime.bigint();
    await echoOnce();
    echoTimes.push(micros(t0));
  }
  for (let i = 0; i < PER_ROUND; i++) {
    const t0 = process.hrtime.bigint();
    await invokeOnce();
    invokeTimes.push(micros(t0));
  }
}

// Throughput: 64 callers, each invoking back to back, until the total is reached.
let started = 0;
const t0 = process.hrtime.bigint();
await Promise.all(
  Array.from({ length: IN_FLIGHT }, async () => {
    while (started < THROUGHPUT_INVOKES) {
      started++;
      await invokeOnce();
    }
  }),
);
const seconds = micros(t0) / 1e6;

report('echo_p50_us', percentile(echoTimes, 50), 1);
report('echo_p99_us', percentile(echoTimes, 99), 1);
report('in_process_p50_us', percentile(inProcessTimes, 50), 1);
report('in_process_p50_ratio', ratio(percentile(inProcessTimes, 50), percentile(echoTimes, 50)));
report('invoke_p50_us', percentile(invokeTimes, 50), 1);
report('invoke_p99_us', percentile(invokeTimes, 99), 1);
report('p50_ratio', ratio(percentile(invokeTimes, 50), percentile(echoTimes, 50)));
report('protocol_overhead_rtts', ratio(percentile(invokeTimes, 50) - percentile(inProcessTimes, 50), percentile(echoTimes, 50)));
report('p99_ratio', ratio(percentile(invokeTimes, 99), percentile(echoTimes, 99)));
report('invokes_per_second', THROUGHPUT_INVOKES / seconds, 0);
report('in_flight', IN_FLIGHT, 0);
report('invoke_frame_bytes', Buffer.byteLength(echoMessage), 0);

ws.close();
client.close();
echo.stop();
await runtime.stop();

// Memory (issue 9): the runtime's peak RSS (VmHWM of its own process) while it takes and runs one
// 200 MB attachment (llm/litellm@1 mock reads every attachment), over the attachment's size.
// Reported as the goal words it — peak RSS over size, idle runtime included, not subtracted —
// with the idle runtime's peak beside it, so what the attachment itself costs can be read off.
const ATTACHMENT_BYTES = 200 * 1000 * 1000;
const peakRss = (pid: number) => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN) * 1024;
const memRuntime = await startRuntimeProcess({});
const memStore = new MemoryArtifactStore();
const memClient = new RuntimeClient({ url: memRuntime.url, token: memRuntime.token, store: memStore });
await memClient.invoke(argsFor('bench-mem-warm'));
const idleRss = peakRss(memRuntime.child.pid as number);
{
  const bytes = Buffer.alloc(ATTACHMENT_BYTES, 0x61);
  const cid = contentId(bytes);
  const key = `attachments/${cid.replace(':', '/')}`;
  await memStore.put(key, bytes, 'application/octet-stream');
  const args = argsFor('bench-mem-1');
  args.inputsJson = { ...args.inputsJson, params: { messages: [{ role: 'user', content: [{ $artifact: key, cid, mime: 'application/octet-stream', size_bytes: ATTACHMENT_BYTES }, 'What is this?'] }] } };
  const envelope = await memClient.invoke(args);
  if (envelope.status !== 'success') throw new Error(`the 200 MB attachment run failed: ${JSON.stringify(envelope)}`);
}
const attachmentRss = peakRss(memRuntime.child.pid as number);
memClient.close();
await memRuntime.stop();
report('runtime_idle_peak_rss_mb', idleRss / 1e6, 1);
report('runtime_attachment_peak_rss_mb', attachmentRss / 1e6, 1);
report('attachment_rss_ratio', ratio(attachmentRss, ATTACHMENT_BYTES));
