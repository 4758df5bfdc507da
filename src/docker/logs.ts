/** Container logs, split back into stdout and stderr; with follow, until the container stops. */
import { Readable } from 'node:stream';
import { describeEngineError, engine } from './engine.js';
import { ProcctlError } from '../contracts/errors.js';

export async function writeLogs(id: string, options: { follow: boolean; tail?: number }, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): Promise<void> {
  const container = engine().getContainer(id);
  const tail = options.tail !== undefined ? { tail: options.tail } : {};
  try {
    // Without follow the engine answers one buffer; as a stream it goes through the same demuxer.
    const stream = options.follow
      ? ((await container.logs({ stdout: true, stderr: true, follow: true, ...tail })) as unknown as NodeJS.ReadableStream)
      : Readable.from([(await container.logs({ stdout: true, stderr: true, follow: false, ...tail })) as unknown as Buffer]);
    await new Promise<void>((resolve, reject) => {
      engine().modem.demuxStream(stream, stdout, stderr);
      stream.on('end', resolve);
      stream.on('error', reject);
    });
  } catch (err) {
    throw new ProcctlError('ERR_DOCKER_UNAVAILABLE', `cannot read logs of ${id}: ${describeEngineError(err)}`, undefined, { cause: err });
  }
}
