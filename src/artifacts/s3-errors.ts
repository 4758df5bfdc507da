/**
 * What an AWS SDK failure means for the user, as one short line. The reason is assembled from
 * known fields (error name, system error code, address, HTTP status), not from whatever text the
 * SDK or the server chose, so no stack, request dump or credential can ride along; the little
 * server text we do show passes through the secret redactor as well.
 */
import { secretRedactor } from '../execution/redact.js';

export interface S3Failure {
  reason: string;
  retryable: boolean;
  httpStatus?: number;
}

export interface S3FailureContext {
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  /** Credential values given in code rather than the environment, to redact as well. */
  credentialValues?: readonly string[];
}

interface SdkErrorShape {
  name?: string;
  message?: string;
  code?: string;
  address?: string;
  port?: number;
  hostname?: string;
  $metadata?: { httpStatusCode?: number };
}

/** Answers that retrying cannot change: credentials, permissions, the bucket or its region. */
const PERMANENT = new Set([
  'AccessDenied',
  'AllAccessDisabled',
  'AuthorizationHeaderMalformed',
  'ExpiredToken',
  'InvalidAccessKeyId',
  'InvalidBucketName',
  'InvalidToken',
  'NoSuchBucket',
  'PermanentRedirect',
  'SignatureDoesNotMatch',
]);

const CREDENTIAL_ENV = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'];

/** A conditional write that did not hold: 412, or 409 when S3 saw two conditional writes race. */
export function isPreconditionFailed(err: unknown): boolean {
  const status = (err as SdkErrorShape).$metadata?.httpStatusCode;
  return status === 412 || (status === 409 && (err as SdkErrorShape).name === 'ConditionalRequestConflict');
}

export function isNotFound(err: unknown): boolean {
  return (err as SdkErrorShape).$metadata?.httpStatusCode === 404 && (err as SdkErrorShape).name !== 'NoSuchBucket';
}

function redact(text: string, context: S3FailureContext): string {
  const extra = Object.fromEntries((context.credentialValues ?? []).map((value, i) => [`credential ${i}`, value]));
  const scrub = secretRedactor([...CREDENTIAL_ENV, ...Object.keys(extra)], { ...process.env, ...extra });
  // Redact first, then cut: a cut first could split a value so that neither half matches whole.
  const clean = scrub(text.replace(/\s+/g, ' ').trim());
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}

export function describeS3Failure(err: unknown, context: S3FailureContext): S3Failure {
  const e = (err ?? {}) as SdkErrorShape;
  const status = e.$metadata?.httpStatusCode;
  if (e.name === 'CredentialsProviderError') {
    return { reason: 'no AWS credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)', retryable: false };
  }
  if (e.name === 'TimeoutError') {
    const connecting = /establish a connection/.test(e.message ?? '');
    return { reason: connecting ? `no connection to the endpoint within ${context.connectTimeoutMs} ms` : `the endpoint sent nothing for ${context.idleTimeoutMs} ms`, retryable: true };
  }
  if (status === undefined && typeof e.code === 'string' && /^E[A-Z_]+$/.test(e.code)) {
    const where = e.address ? ` ${e.address}${e.port ? `:${e.port}` : ''}` : e.hostname ? ` ${e.hostname}` : '';
    return { reason: `endpoint unreachable (${e.code}${where})`, retryable: true };
  }
  if (status !== undefined) {
    const name = e.name ?? 'Error';
    // S3 reads are strongly consistent: a key that is absent now stays absent on a retry.
    if (isNotFound(err)) return { reason: `no such key (HTTP ${status})`, retryable: false, httpStatus: status };
    if (name === 'NoSuchBucket') return { reason: `the bucket does not exist (NoSuchBucket, HTTP ${status})`, retryable: false, httpStatus: status };
    // HEAD answers carry no body, so the SDK's message is a placeholder ("UnknownError").
    const detail = e.message && e.message !== 'UnknownError' && e.message !== name ? `: ${redact(e.message, context)}` : '';
    return { reason: `${name} (HTTP ${status})${detail}`, retryable: !PERMANENT.has(name), httpStatus: status };
  }
  return { reason: redact(`${e.name ?? 'Error'}: ${e.message ?? String(err)}`, context), retryable: true };
}
