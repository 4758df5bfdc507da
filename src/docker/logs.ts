/** Container logs, split back into stdout and stderr; with follow, until the container stops. */
import { describeEngineError, engine } from './engine.js';
import { ProcctlError } from '../contracts/errors.js';

export async function writeLogs(id: string, options: { follow: boolean; tail?: number }, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): Promise<void> {
  const container = engine().getContainer(id);
  try {
    if (!options.follow) {
      const buf = (await container.logs({ stdout: true, stderr: true, follow: false, ...(options.tail !== undefined && { tail: options.tail }) })) as unknown as Buffer;
      demuxBuffer(buf, stdout, stderr);
      return;
    }
    const stream = (await container.logs({ stdout: true, stderr: true, follow: true, ...(options.tail !== undefined && { tail: options.tail }) })) as unknown as NodeJS.ReadableStream;
    await new Promise<void>((resolve, reject) => {
      engine().modem.demuxStream(stream, stdout, stderr);
      stream.on('end', resolve);
      stream.on('error', reject);
    });
  } catch (err) {
    throw new ProcctlError('ERR_DOCKER_UNAVAILABLE', `cannot read logs of ${id}: ${describeEngineError(err)}`, undefined, { cause: err });
  }
}

/** Docker's multiplexed format: an 8-byte header (stream id, length) before each chunk. */
export function demuxBuffer(buf: Buffer, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): void {
  let offset = 0;
  while (offset + 8 <= buf.length) {
    const size = buf.readUInt32BE(offset + 4);
    const chunk = buf.subarray(offset + 8, offset + 8 + size);
    (buf[offset] === 2 ? stderr : stdout).write(chunk);
    offset += 8 + size;
  }
}
