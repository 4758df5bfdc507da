/**
 * Canonical artifact paths. Processors name their outputs freely; before a byte is written every
 * name goes through one canonical form, so two spellings of one path cannot both land, and no name
 * can climb out of the execution's prefix.
 */
import { ProcctlError } from '../contracts/errors.js';

export const MAX_SEGMENT_BYTES = 255;
export const MAX_PATH_BYTES = 1024;
const EXECUTION_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const DEFAULT_WRITE_PREFIX = 'executions/{execution_id}/';

function pathError(raw: string, reason: string): ProcctlError {
  const shown = raw.length > 80 ? `${JSON.stringify(raw.slice(0, 80))}… (${raw.length} characters)` : JSON.stringify(raw);
  return new ProcctlError('ERR_OUTPUT_PATH', `output path ${shown} ${reason}`, { path: raw.slice(0, 256), reason });
}

/** Percent-decodes one segment, once. A malformed escape or one that is not UTF-8 is rejected. */
function decodeSegment(raw: string, segment: string): string {
  if (!segment.includes('%')) return segment;
  if (/%(?![0-9A-Fa-f]{2})/.test(segment)) throw pathError(raw, 'has a "%" that is not followed by two hex digits');
  try {
    return decodeURIComponent(segment);
  } catch {
    throw pathError(raw, 'has percent-escapes that are not UTF-8');
  }
}

// Plain ASCII names with no "%", no empty, "." or ".." segment and within the lengths are
// already canonical (NFC and percent-decoding leave them as they are). Nearly every path is one,
// and every key of every invoke passes through here, so they skip the general walk below.
const PLAIN_PATH = /^[A-Za-z0-9_.~+=,@-]+(?:\/[A-Za-z0-9_.~+=,@-]+)*$/;
const DOT_SEGMENT = /(?:^|\/)\.\.?(?:\/|$)/;

function isPlainCanonical(raw: string): boolean {
  if (typeof raw !== 'string' || raw.length > MAX_PATH_BYTES || !PLAIN_PATH.test(raw) || DOT_SEGMENT.test(raw)) return false;
  return raw.length <= MAX_SEGMENT_BYTES || raw.split('/').every((segment) => segment.length <= MAX_SEGMENT_BYTES);
}

/**
 * The canonical form of a relative path: NFC, percent-decoded once (a decoded "/" is rejected),
 * "//" collapsed, "." and ".." rejected, no leading or trailing "/", no control characters or
 * backslashes, each segment at most 255 bytes and the whole at most 1024 bytes of UTF-8.
 */
export function canonicalPath(raw: string): string {
  if (isPlainCanonical(raw)) return raw;
  if (typeof raw !== 'string' || raw.length === 0) throw pathError(String(raw), 'is empty');
  if (raw.startsWith('/')) throw pathError(raw, 'is absolute; output paths are relative to the execution prefix');
  if (raw.endsWith('/')) throw pathError(raw, 'ends with "/": it names a directory, not a file');
  const segments: string[] = [];
  for (const rawSegment of raw.normalize('NFC').split('/')) {
    if (rawSegment === '') continue; // "a//b" is "a/b"
    const segment = decodeSegment(raw, rawSegment).normalize('NFC');
    if (segment.includes('/')) throw pathError(raw, 'encodes a "/" inside a segment (%2F); use a real "/" to make directories');
    if (segment === '.' || segment === '..') throw pathError(raw, `has a "${segment}" segment; paths may not move between directories`);
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f\\]/.test(segment)) throw pathError(raw, 'has a control character or a backslash');
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) throw pathError(raw, `has a segment longer than ${MAX_SEGMENT_BYTES} bytes`);
    segments.push(segment);
  }
  const path = segments.join('/');
  if (path === '') throw pathError(raw, 'is empty');
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) throw pathError(raw, `is longer than ${MAX_PATH_BYTES} bytes`);
  return path;
}

export function checkExecutionId(id: string): string {
  if (!EXECUTION_ID_PATTERN.test(id)) {
    throw new ProcctlError('ERR_EXECUTION_ID', `execution id ${JSON.stringify(id)} is not valid: use 1–128 characters from [A-Za-z0-9._-], starting with a letter or digit`, { execution_id: id.slice(0, 256) });
  }
  return id;
}

/**
 * Expands a write prefix template. It must contain `{execution_id}` (so two executions never share
 * a prefix) and no other placeholder; the result is a canonical relative path ending in "/".
 */
export function resolveWritePrefix(template: string, executionId: string): string {
  const fail = (reason: string) => new ProcctlError('ERR_PREFIX_TEMPLATE', `write prefix ${JSON.stringify(template)} ${reason}`, { write_prefix: template });
  const placeholders = template.match(/\{[^{}]*\}/g) ?? [];
  const unknown = placeholders.filter((p) => p !== '{execution_id}');
  if (unknown.length > 0) throw fail(`has unknown placeholder ${unknown[0]}; only {execution_id} is allowed`);
  if (placeholders.length === 0) throw fail('lacks {execution_id}; every execution needs a prefix of its own');
  const expanded = template.replaceAll('{execution_id}', checkExecutionId(executionId));
  if (/[{}]/.test(expanded)) throw fail('has an unbalanced "{" or "}"');
  let canonical: string;
  try {
    canonical = canonicalPath(expanded.replace(/\/+$/, ''));
  } catch (err) {
    throw fail(`does not give a valid path: ${(err as ProcctlError).message}`);
  }
  return `${canonical}/`;
}

/**
 * Content-addressed attachment storage: `inputs/sha256/<hex>`. Global rather than per execution,
 * so the same bytes are stored once however often they are attached.
 */
export function attachmentKey(cid: string): string {
  return `inputs/${cid.replace(':', '/')}`;
}
