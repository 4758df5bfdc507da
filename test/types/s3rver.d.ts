// s3rver ships no types; this covers the part the tests use (constructor options, run, close).
declare module 's3rver' {
  import type { AddressInfo } from 'node:net';

  interface S3rverOptions {
    address?: string;
    /** 0 picks a free port; run() resolves to the address actually bound. */
    port?: number;
    silent?: boolean;
    /** Where buckets and objects are kept; a second server on the same directory sees them. */
    directory?: string;
    resetOnClose?: boolean;
    configureBuckets?: Array<{ name: string; configs?: Array<string | Buffer> }>;
  }

  export default class S3rver {
    constructor(options?: S3rverOptions);
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
  }
}
