/**
 * A real S3 server (s3rver) in this process on 127.0.0.1 and a random port, plus a plain SDK
 * client to look into the bucket from outside the store under test.
 */
import { createServer } from 'node:net';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { tempDir } from './cli.js';
import { honourConditionalWrites } from './s3-conditional.js';

/** s3rver accepts only this access key id (any secret passes, so tests can use a canary). */
export const S3RVER_ACCESS_KEY_ID = 'S3RVER';

export interface S3Server {
  endpoint: string;
  bucket: string;
  /** Objects live here; a server started again on it sees what the stopped one stored. */
  directory: string;
  stop(): Promise<void>;
  /** Every key in the bucket under a prefix, sorted. */
  keys(prefix?: string): Promise<string[]>;
  /** An object's bytes and stored media type, read past the store under test. */
  object(key: string): Promise<{ bytes: Buffer; contentType: string | undefined }>;
}

export async function startS3rver(bucket = 'procctl', directory = tempDir('procctl-s3rver-')): Promise<S3Server> {
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] });
  honourConditionalWrites(server);
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  // The SDK's Node-support notice would land in the test log; children get a clean env anyway.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  // The settings docs/infra-notes.md found to work with s3rver, independent of the store's own.
  const s3 = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    credentials: { accessKeyId: S3RVER_ACCESS_KEY_ID, secretAccessKey: 'S3RVER' },
  });
  let running = true;
  return {
    endpoint,
    bucket,
    directory,
    async stop() {
      if (running) await server.close();
      running = false;
      s3.destroy();
    },
    async keys(prefix = '') {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        keys.push(...(page.Contents ?? []).map((o) => o.Key as string));
        token = page.NextContinuationToken;
      } while (token);
      return keys.sort();
    },
    async object(key) {
      const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return { bytes: Buffer.from((await response.Body?.transformToByteArray()) ?? []), contentType: response.ContentType };
    },
  };
}

/** A loopback port with nothing listening on it: bound, then released. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Environment for a child `procctl` talking to this server through the SDK's own variables only.
 * Shared config files point nowhere, so a developer's ~/.aws cannot change what the test sees.
 */
export function s3Env(endpoint: string, secret: string): NodeJS.ProcessEnv {
  const nowhere = join(tempDir('procctl-aws-'), 'absent');
  return {
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_ACCESS_KEY_ID: S3RVER_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: secret,
    AWS_CONFIG_FILE: nowhere,
    AWS_SHARED_CREDENTIALS_FILE: nowhere,
  };
}
