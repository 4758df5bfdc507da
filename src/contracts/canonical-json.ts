/**
 * RFC 8785 (JCS) canonical JSON. Every envelope, index and hash input goes through here, so the
 * same value always gives the same bytes whatever produced it.
 *
 * JCS is ECMAScript's own JSON serialisation of strings and numbers with object keys sorted by
 * UTF-16 code units, so this is a small walk over the value that leaves those to JSON.stringify.
 * It is on every invoke's path several times over (inputs hash, fingerprint, index, handler
 * outputs), which is why it is written out here rather than taken from a general library; the
 * tests check it against the `canonicalize` package.
 */
import { hasLoneSurrogate } from './i-json.js';

const MAX_DEPTH = 1000;
const SURROGATE = /[\uD800-\uDFFF]/;
// Strings with none of these need no escaping and no surrogate check: the common case.
// eslint-disable-next-line no-control-regex
const SPECIAL = /["\\\u0000-\u001f\uD800-\uDFFF]/;

function stringText(text: string): string {
  if (!SPECIAL.test(text)) return `"${text}"`;
  // I-JSON (RFC 7493), which JCS requires, has no lone surrogates; the regex spares the loop.
  if (SURROGATE.test(text) && hasLoneSurrogate(text)) throw new TypeError('canonical JSON: a string has a lone surrogate, which I-JSON forbids');
  return JSON.stringify(text);
}

/** The canonical text of a value; undefined for values JSON leaves out (undefined, functions, symbols). */
function write(value: unknown, depth: number): string | undefined {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return stringText(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonical JSON: ${value} is not a JSON number`);
      return String(value); // ECMAScript's Number::toString, as JCS asks (and -0 is "0")
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      throw new TypeError('canonical JSON: a BigInt has no JSON form');
    case 'object':
      break;
    default:
      return undefined;
  }
  if (depth > MAX_DEPTH) throw new TypeError(`canonical JSON: nested more than ${MAX_DEPTH} levels deep (or circular)`);
  const withToJson = value as { toJSON?: () => unknown };
  if (typeof withToJson.toJSON === 'function') return write(withToJson.toJSON(), depth + 1);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += `${i === 0 ? '' : ','}${write(value[i], depth + 1) ?? 'null'}`;
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  let out = '{';
  let first = true;
  // The default sort compares UTF-16 code units, which is JCS's key order.
  for (const key of Object.keys(record).sort()) {
    const text = write(record[key], depth + 1);
    if (text === undefined) continue;
    out += `${first ? '' : ','}${stringText(key)}:${text}`;
    first = false;
  }
  return `${out}}`;
}

export function canonicalJson(value: unknown): string {
  const text = write(value, 0);
  if (text === undefined) throw new TypeError('value has no JSON representation');
  return text;
}

export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalJson(value), 'utf8');
}
