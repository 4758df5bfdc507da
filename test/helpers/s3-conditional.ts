/**
 * s3rver (3.7.1, like every S3-compatible server that installs on this machine: no MinIO, Ceph or
 * moto package here; @20minutes/s3rver 5 neither) ignores `If-None-Match` and `If-Match` on
 * PutObject. AWS S3 (since 2024) and MinIO honour them, and the store relies on them for execution
 * claims. This middleware gives s3rver those semantics as AWS documents them, in front of its own
 * routes: a conditional PUT whose condition fails gets 412 PreconditionFailed with S3's XML error,
 * and conditional PUTs of one key are serialised, so check and write are one step as on S3.
 */
import type S3rver from 's3rver';

type Next = () => Promise<void>;
interface Ctx {
  method: string;
  path: string;
  headers: Record<string, string | undefined>;
  status: number;
  type: string;
  body: unknown;
}
interface StoreLike {
  getMetadata(bucket: string, key: string): Promise<Record<string, string>>;
}

const PRECONDITION_FAILED = (condition: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message><Condition>${condition}</Condition></Error>`;

const unquote = (etag: string | undefined) => etag?.replace(/^W\//, '').replace(/"/g, '');

export function honourConditionalWrites(server: S3rver): void {
  const locks = new Map<string, Promise<void>>();
  const store = (server as unknown as { store: StoreLike }).store;
  const middleware = async (ctx: Ctx, next: Next): Promise<void> => {
    const noneMatch = ctx.headers['if-none-match'];
    const match = ctx.headers['if-match'];
    // Path-style only (the tests' client): /bucket/key.
    const slash = ctx.path.indexOf('/', 1);
    if (ctx.method !== 'PUT' || (noneMatch === undefined && match === undefined) || slash === -1 || ctx.headers['x-amz-copy-source']) return next();
    const bucket = ctx.path.slice(1, slash);
    const key = decodeURIComponent(ctx.path.slice(slash + 1));
    const lockKey = `${bucket}/${key}`;
    const previous = locks.get(lockKey) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const chained = previous.then(() => mine);
    locks.set(lockKey, chained);
    await previous;
    try {
      const etag = await store.getMetadata(bucket, key).then(
        (metadata) => unquote(metadata['etag']),
        () => undefined,
      );
      const failed = noneMatch === '*' ? etag !== undefined ? 'If-None-Match' : undefined : match !== undefined && (etag === undefined || unquote(match) !== etag) ? 'If-Match' : undefined;
      if (failed) {
        ctx.status = etag === undefined && failed === 'If-Match' ? 404 : 412;
        ctx.type = 'application/xml';
        ctx.body = ctx.status === 404 ? '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>' : PRECONDITION_FAILED(failed);
        return;
      }
      await next();
    } finally {
      release();
      if (locks.get(lockKey) === chained) locks.delete(lockKey);
    }
  };
  (server as unknown as { middleware: unknown[] }).middleware.unshift(middleware);
}
