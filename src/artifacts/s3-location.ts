/**
 * `s3://bucket/prefix` locations. Parsing needs no AWS SDK, so choosing a store and rejecting a bad
 * location cost nothing at start-up; the SDK is loaded only when an S3 store is first used.
 */
import { ProcctlError } from '../contracts/errors.js';
import { canonicalPath } from './paths.js';

export interface S3Location {
  bucket: string;
  /** Canonical relative path without a trailing "/", or "" for the bucket's root. */
  prefix: string;
}

const SCHEME = /^s3:\/\//i;

export function isS3Location(location: string): boolean {
  return SCHEME.test(location);
}

/** The canonical spelling, used in messages and receipts: `s3://bucket` or `s3://bucket/prefix`. */
export function formatS3Location({ bucket, prefix }: S3Location): string {
  return prefix === '' ? `s3://${bucket}` : `s3://${bucket}/${prefix}`;
}

/**
 * Why a bucket name is not one S3 accepts, or undefined. These are the general-purpose bucket
 * rules; checking them here turns a typo into a usage error instead of a network round trip that
 * fails with a less helpful message (or, with virtual-host addressing, a DNS error).
 */
function bucketProblem(bucket: string): string | undefined {
  if (bucket.length < 3 || bucket.length > 63) return 'must be 3 to 63 characters long';
  if (!/^[a-z0-9.-]+$/.test(bucket)) return 'may contain only lower-case letters, digits, "." and "-"';
  if (!/^[a-z0-9].*[a-z0-9]$/.test(bucket)) return 'must start and end with a letter or digit';
  if (bucket.includes('..')) return 'may not contain ".."';
  if (/^\d+\.\d+\.\d+\.\d+$/.test(bucket)) return 'may not look like an IP address';
  return undefined;
}

export function parseS3Location(location: string): S3Location {
  const usage = (reason: string) => new ProcctlError('ERR_USAGE', `artifact store ${JSON.stringify(location)} ${reason}`, { location });
  if (!isS3Location(location)) throw usage('is not an s3:// location');
  const rest = location.replace(SCHEME, '');
  // "?" and "#" are legal in keys but read as URL syntax here; refusing them avoids guessing.
  if (/[?#]/.test(rest)) throw usage('has a "?" or "#"; write s3://BUCKET/PREFIX without query or fragment');
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  if (bucket === '') throw usage('names no bucket; write s3://BUCKET or s3://BUCKET/PREFIX');
  const problem = bucketProblem(bucket);
  if (problem) throw usage(`has an invalid bucket name ${JSON.stringify(bucket)}: a bucket name ${problem}`);
  const rawPrefix = slash === -1 ? '' : rest.slice(slash + 1).replace(/^\/+|\/+$/g, '');
  if (rawPrefix === '') return { bucket, prefix: '' };
  try {
    // The same canonical form as every key, so "a//b" and "a/b" are one prefix and ".." cannot
    // reach outside it.
    return { bucket, prefix: canonicalPath(rawPrefix) };
  } catch (err) {
    throw usage(`has an invalid prefix: ${(err as ProcctlError).message}`);
  }
}
