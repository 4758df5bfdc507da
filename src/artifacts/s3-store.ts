/**
 * The S3 artifact store (AWS S3, MinIO, s3rver) through `@aws-sdk/client-s3`. Keys live under the
 * location's prefix: key `a/b.txt` in `s3://bucket/runs` is object `runs/a/b.txt`.
 *
 * The SDK is imported on first use, not with this module: choosing a store happens on every
 * `procctl run`, and the filesystem path must not pay the SDK's load time.
 *
 * Configuration: the SDK's own sources for credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN, AWS_PROFILE, …), the endpoint (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, a
 * profile's endpoint_url) and retries (AWS_MAX_ATTEMPTS, AWS_RETRY_MODE). On top of those:
 * AWS_REGION defaults to us-east-1 here, and path-style addressing is on whenever an endpoint
 * override is set (MinIO and s3rver need it; AWS prefers virtual-host style), or as
 * PROCCTL_S3_FORCE_PATH_STYLE=1/0 says.
 */
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { ProcctlError } from '../contracts/errors.js';
import { canonicalPath } from './paths.js';
import { compareCodeUnits } from '../contracts/envelope.js';
import { describeS3Failure, isNotFound, isPreconditionFailed, type S3FailureContext } from './s3-errors.js';
import { formatS3Location, parseS3Location, type S3Location } from './s3-location.js';
import type { ArtifactStore } from './store.js';

export interface S3StoreOptions {
  /** Overrides the SDK's endpoint resolution, e.g. `http://127.0.0.1:9000` for MinIO. */
  endpoint?: string;
  /** Default: AWS_REGION, else us-east-1. */
  region?: string;
  /** Default: PROCCTL_S3_FORCE_PATH_STYLE, else on exactly when an endpoint override is set. */
  forcePathStyle?: boolean;
  /** Default: the SDK's credential chain (environment, profile, container or instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** How long a TCP connection may take to open. Default 2000 ms. */
  connectTimeoutMs?: number;
  /**
   * How long an open connection may stay silent. Default 30 000 ms. An idle limit rather than a
   * total one, so a large object on a slow link is not cut off while bytes still flow.
   */
  idleTimeoutMs?: number;
  /** Attempts per operation. Default: the SDK's (AWS_MAX_ATTEMPTS, else 3). */
  maxAttempts?: number;
  /**
   * Told how far an upload of a large object (≥ S3_PROGRESS_MIN_BYTES) has come; such puts then go
   * through `@aws-sdk/lib-storage`'s Upload, which reports it. Without it every put is one PutObject.
   */
  uploadProgress?: UploadProgress;
}

export type UploadProgress = (message: string, live: { current?: number; total?: number }) => void;

/** Below this an upload is quick: one PutObject, no progress. */
export const S3_PROGRESS_MIN_BYTES = 8 * 1024 * 1024;
/** Upload's smallest part is 5 MiB; 8 MiB parts, at most 10 000 of them as S3 allows. */
const PART_BYTES = 8 * 1024 * 1024;
const MAX_PARTS = 10_000;

export const S3_CONNECT_TIMEOUT_MS = 2000;
export const S3_IDLE_TIMEOUT_MS = 30_000;
export const S3_DEFAULT_REGION = 'us-east-1';

type Sdk = typeof import('@aws-sdk/client-s3');
interface Connection {
  sdk: Sdk;
  client: S3Client;
}

const FLAG_VALUES: Record<string, boolean> = { '1': true, true: true, yes: true, '0': false, false: false, no: false };

/** Path style unless told otherwise by PROCCTL_S3_FORCE_PATH_STYLE: on iff an endpoint is overridden. */
function pathStyleFromEnv(env: NodeJS.ProcessEnv, explicitEndpoint: boolean): boolean {
  const raw = env['PROCCTL_S3_FORCE_PATH_STYLE']?.trim().toLowerCase();
  if (raw) {
    const value = FLAG_VALUES[raw];
    if (value === undefined) throw new ProcctlError('ERR_USAGE', `PROCCTL_S3_FORCE_PATH_STYLE=${JSON.stringify(raw)} is not 1 or 0`, { variable: 'PROCCTL_S3_FORCE_PATH_STYLE' });
    return value;
  }
  const ignored = FLAG_VALUES[env['AWS_IGNORE_CONFIGURED_ENDPOINT_URLS']?.trim().toLowerCase() ?? ''] === true;
  return explicitEndpoint || (!ignored && Boolean(env['AWS_ENDPOINT_URL_S3'] || env['AWS_ENDPOINT_URL']));
}

/**
 * The SDK prints a warning about its own future Node support policy on every process's first
 * client (Node < 22). It is noise on a CLI's stderr, which belongs to the run's logs; the variable
 * the SDK documents turns it off. Set only for construction, and only if the user has not chosen.
 */
function withoutNodeVersionWarning<T>(make: () => T): T {
  const name = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';
  if (process.env[name] !== undefined) return make();
  process.env[name] = 'true';
  try {
    return make();
  } finally {
    delete process.env[name];
  }
}

export class S3ArtifactStore implements ArtifactStore {
  readonly bucket: string;
  readonly prefix: string;
  readonly location: string;
  private readonly config: S3ClientConfig;
  private readonly failureContext: S3FailureContext;
  private readonly uploadProgress: UploadProgress | undefined;
  private connection: Promise<Connection> | undefined;

  /** Reads the environment now, so a bad setting is a usage error before any work starts. */
  constructor(location: string | S3Location, options: S3StoreOptions = {}) {
    const parsed = typeof location === 'string' ? parseS3Location(location) : location;
    this.bucket = parsed.bucket;
    this.prefix = parsed.prefix;
    this.location = formatS3Location(parsed);
    const env = process.env;
    const connectTimeoutMs = options.connectTimeoutMs ?? S3_CONNECT_TIMEOUT_MS;
    const idleTimeoutMs = options.idleTimeoutMs ?? S3_IDLE_TIMEOUT_MS;
    this.config = {
      region: options.region ?? (env['AWS_REGION'] || S3_DEFAULT_REGION),
      forcePathStyle: options.forcePathStyle ?? pathStyleFromEnv(env, options.endpoint !== undefined),
      // On AWS a bucket in another region answers 301; follow it rather than fail.
      followRegionRedirects: true,
      // Without a connect timeout an unroutable endpoint hangs for the OS's TCP timeout (minutes).
      requestHandler: { connectionTimeout: connectTimeoutMs, socketTimeout: idleTimeoutMs },
      // The SDK's default (WHEN_SUPPORTED) adds CRC32 trailers that s3rver stores as part of the
      // object and some S3-compatible servers reject; WHEN_REQUIRED works with AWS, MinIO and
      // s3rver. The SDK's own variables still win when set.
      ...(!env['AWS_REQUEST_CHECKSUM_CALCULATION'] && { requestChecksumCalculation: 'WHEN_REQUIRED' }),
      ...(!env['AWS_RESPONSE_CHECKSUM_VALIDATION'] && { responseChecksumValidation: 'WHEN_REQUIRED' }),
      ...(options.endpoint !== undefined && { endpoint: options.endpoint }),
      ...(options.credentials && { credentials: options.credentials }),
      ...(options.maxAttempts !== undefined && { maxAttempts: options.maxAttempts }),
    };
    const secrets = options.credentials ? [options.credentials.accessKeyId, options.credentials.secretAccessKey, options.credentials.sessionToken ?? ''] : [];
    this.uploadProgress = options.uploadProgress;
    this.failureContext = { connectTimeoutMs, idleTimeoutMs, credentialValues: secrets.filter(Boolean) };
  }

  /** The object key for a store key; re-canonicalised so a bad key never reaches the bucket. */
  objectKey(key: string): string {
    const relative = canonicalPath(key);
    return this.prefix === '' ? relative : `${this.prefix}/${relative}`;
  }

  /** PutObject replaces an object in one step: a reader sees the old bytes or the new, never a part. */
  async put(key: string, bytes: Uint8Array, mime: string): Promise<void> {
    const Key = this.objectKey(key);
    const progress = this.uploadProgress;
    if (progress && bytes.byteLength >= S3_PROGRESS_MIN_BYTES) return this.putWithProgress(key, Key, bytes, mime, progress);
    await this.call('write', key, ({ sdk, client }) =>
      // A known ContentLength keeps the body a plain upload that every S3 implementation accepts.
      client.send(new sdk.PutObjectCommand({ Bucket: this.bucket, Key, Body: bytes, ContentLength: bytes.byteLength, ContentType: mime })),
    );
  }

  /**
   * A large object through lib-storage's Upload on the same client (its retries, timeouts and error
   * mapping): multipart, so it reports each part's bytes; the object appears only when the upload
   * completes, and a failed one is aborted, so readers still see the old bytes or the new.
   */
  private async putWithProgress(key: string, Key: string, bytes: Uint8Array, mime: string, progress: UploadProgress): Promise<void> {
    const total = bytes.byteLength;
    const partSize = Math.max(PART_BYTES, Math.ceil(total / MAX_PARTS));
    await this.call('write', key, async ({ client }) => {
      const { Upload } = await import('@aws-sdk/lib-storage');
      const upload = new Upload({ client, params: { Bucket: this.bucket, Key, Body: bytes, ContentLength: total, ContentType: mime }, partSize, queueSize: 4, leavePartsOnError: false });
      upload.on('httpUploadProgress', (p) => progress(`uploading ${key} to ${this.location}`, { current: p.loaded ?? 0, total }));
      await upload.done();
    });
  }

  async get(key: string): Promise<Buffer> {
    const Key = this.objectKey(key);
    return this.call('read', key, async ({ sdk, client }) => {
      const response = await client.send(new sdk.GetObjectCommand({ Bucket: this.bucket, Key }));
      const bytes = (await response.Body?.transformToByteArray()) ?? new Uint8Array();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    });
  }

  /** False only when S3 says the key is absent; an unreachable store is an error, not "absent". */
  async has(key: string): Promise<boolean> {
    const Key = this.objectKey(key);
    return this.call('check', key, ({ sdk, client }) =>
      client.send(new sdk.HeadObjectCommand({ Bucket: this.bucket, Key })).then(
        () => true,
        (err: unknown) => {
          if (isNotFound(err)) return false;
          throw err;
        },
      ),
    );
  }

  /**
   * `If-None-Match: *`: S3 stores the object only if no object has the key (412 otherwise; 409
   * when a conditional write raced another). Exactly one of several racing creators wins.
   */
  async create(key: string, bytes: Uint8Array, mime: string): Promise<string | undefined> {
    const Key = this.objectKey(key);
    return this.call('create', key, ({ sdk, client }) =>
      client.send(new sdk.PutObjectCommand({ Bucket: this.bucket, Key, Body: bytes, ContentLength: bytes.byteLength, ContentType: mime, IfNoneMatch: '*' })).then(
        (response) => response.ETag ?? '',
        (err: unknown) => {
          if (isPreconditionFailed(err)) return undefined;
          throw err;
        },
      ),
    );
  }

  async read(key: string): Promise<{ bytes: Buffer; version: string } | undefined> {
    const Key = this.objectKey(key);
    return this.call('read', key, async ({ sdk, client }) => {
      let response;
      try {
        response = await client.send(new sdk.GetObjectCommand({ Bucket: this.bucket, Key }));
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
      const bytes = (await response.Body?.transformToByteArray()) ?? new Uint8Array();
      return { bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), version: response.ETag ?? '' };
    });
  }

  /** `If-Match: <etag>`: replaced only while the object is still the one that was read. */
  async replaceIf(key: string, bytes: Uint8Array, mime: string, version: string): Promise<string | undefined> {
    const Key = this.objectKey(key);
    return this.call('replace', key, ({ sdk, client }) =>
      client.send(new sdk.PutObjectCommand({ Bucket: this.bucket, Key, Body: bytes, ContentLength: bytes.byteLength, ContentType: mime, IfMatch: version })).then(
        (response) => response.ETag ?? '',
        (err: unknown) => {
          if (isPreconditionFailed(err) || isNotFound(err)) return undefined;
          throw err;
        },
      ),
    );
  }

  /**
   * Pages of ListObjects under the prefix, stopping as soon as `limit` keys are in hand. The
   * original ListObjects with a marker rather than V2's continuation token: AWS, MinIO and s3rver
   * all page it correctly, where s3rver fails a truncated V2 listing.
   */
  async list(prefix: string, limit = Infinity): Promise<string[]> {
    const base = this.prefix === '' ? '' : `${this.prefix}/`;
    const keys: string[] = [];
    let marker: string | undefined;
    for (;;) {
      const page = await this.call('list', prefix, ({ sdk, client }) =>
        client.send(new sdk.ListObjectsCommand({ Bucket: this.bucket, Prefix: base + prefix, Marker: marker, MaxKeys: Math.min(1000, limit - keys.length) })),
      );
      const objects = page.Contents ?? [];
      for (const object of objects) if (object.Key) keys.push(object.Key.slice(base.length));
      marker = objects.at(-1)?.Key;
      if (!page.IsTruncated || marker === undefined || keys.length >= limit) break;
    }
    return keys.sort(compareCodeUnits);
  }

  /** One DeleteObject per key, a few at a time: multi-object delete needs checksums not every server takes. */
  async remove(keys: readonly string[]): Promise<void> {
    const queue = [...keys];
    const worker = async () => {
      for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
        const Key = this.objectKey(key);
        await this.call('remove', key, ({ sdk, client }) => client.send(new sdk.DeleteObjectCommand({ Bucket: this.bucket, Key })));
      }
    };
    await Promise.all(Array.from({ length: Math.min(8, queue.length) }, worker));
  }

  private connect(): Promise<Connection> {
    this.connection ??= import('@aws-sdk/client-s3').then(
      (sdk) => ({ sdk, client: withoutNodeVersionWarning(() => new sdk.S3Client(this.config)) }),
      (err: unknown) => {
        this.connection = undefined;
        throw new ProcctlError('ERR_ARTIFACT_STORE', `cannot use ${this.location}: the AWS SDK (@aws-sdk/client-s3) could not be loaded`, { store: this.location }, { cause: err });
      },
    );
    return this.connection;
  }

  private async call<T>(op: 'read' | 'write' | 'check' | 'create' | 'replace' | 'list' | 'remove', key: string, action: (connection: Connection) => Promise<T>): Promise<T> {
    const connection = await this.connect();
    try {
      return await action(connection);
    } catch (err) {
      const { reason, retryable, httpStatus } = describeS3Failure(err, this.failureContext);
      const details = { key, store: this.location, reason, ...(httpStatus !== undefined && { http_status: httpStatus }) };
      throw new ProcctlError('ERR_ARTIFACT_STORE', `cannot ${op} ${key} in ${this.location}: ${reason}`, details, { retryable, cause: err });
    }
  }
}
