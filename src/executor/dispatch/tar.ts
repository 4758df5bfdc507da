// The payload goes into the container as a file in a one-entry tar (Docker's putArchive), not as
// an environment variable: that keeps payload.env secrets out of `docker inspect` and lifts the
// ~128 KiB limit on a single environment string.
import { pack } from 'tar-stream';

export async function singleFileTar(name: string, data: Buffer, mode = 0o644): Promise<Buffer> {
  const archive = pack();
  archive.entry({ name, size: data.length, mode }, data);
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
