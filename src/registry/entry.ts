/**
 * Reading and checking one registry entry file. Every problem names the file and the field, so a
 * broken entry is fixed from the message alone.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cacheRead, cacheWrite } from '../cache/disk-cache.js';
import { contentId, contentIdHex } from '../contracts/content-id.js';
import { ProcctlError } from '../contracts/errors.js';
import { checkSchema, compileSchema, validateAgainst } from '../contracts/validator.js';
import { REGISTRY_ENTRY_SCHEMA, RESERVED_ENV_PREFIX } from './entry-schema.js';
import { parseRef } from './ref.js';

export interface RuntimeLimits {
  cpu?: number;
  memory_mb?: number;
  gpu?: number;
  pids?: number;
  timeout_s: number;
  concurrency: number;
}

export interface DeclaredOutput {
  path: string;
  mime: string;
  description?: string;
}

export interface RegistryEntry {
  ref: string;
  title?: string;
  description?: string;
  image: { repository: string; digests: Record<string, string> };
  secrets: { required: string[]; optional?: string[] };
  /** Non-secret environment names passed through to real-mode placements. */
  config?: string[];
  runtime: RuntimeLimits;
  inputs_schema: Record<string, unknown>;
  outputs: DeclaredOutput[];
}

function invalid(file: string, field: string, message: string): ProcctlError {
  return new ProcctlError('ERR_REGISTRY_INVALID', `${file}: ${field ? `${field} ` : ''}${message}`, { file, field });
}

// The YAML parser loads only when an entry is not in the cache yet (see parseEntry).
const require = createRequire(import.meta.url);
// A cached entry passed the checks of its day: bump the version whenever the checks change.
const CACHE_NAMESPACE = 'registry-v3';
/** Alias expansions one entry may make (yaml's default too); an alias bomb needs millions. */
const MAX_YAML_ALIASES = 100;

/**
 * Parses and checks an entry's text. `expectedSlug` is the directory name it was found under.
 * An entry that passed every check before is served from the cache by the hash of its text.
 */
export function parseEntry(text: string, file: string, expectedSlug?: string): RegistryEntry {
  const key = `${contentIdHex(contentId(`${expectedSlug ?? ''}\n${text}`))}.json`;
  const cached = cacheRead(CACHE_NAMESPACE, key);
  if (cached !== undefined) {
    try {
      return JSON.parse(cached) as RegistryEntry;
    } catch {
      // damaged cache file: parse afresh
    }
  }
  const entry = parseAndCheck(text, file, expectedSlug);
  cacheWrite(CACHE_NAMESPACE, key, JSON.stringify(entry));
  return entry;
}

function parseAndCheck(text: string, file: string, expectedSlug?: string): RegistryEntry {
  const { parseDocument } = require('yaml') as typeof import('yaml');
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const where = yamlError.linePos?.[0];
    throw invalid(file, '', `is not valid YAML${where ? ` at line ${where.line}, column ${where.col}` : ''}: ${yamlError.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '')}`);
  }
  let value: unknown;
  try {
    // yaml's own guard against alias bombs (a few lines that expand to billions of nodes): past
    // maxAliasCount it throws, which is this file's problem, not procctl's.
    value = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (err) {
    throw invalid(file, '', `cannot be read as data: ${(err as Error).message} (at most ${MAX_YAML_ALIASES} alias expansions)`);
  }
  const problems = validateAgainst(REGISTRY_ENTRY_SCHEMA, value);
  const first = problems[0];
  if (first) {
    throw invalid(file, first.pointer || '/', `${first.message}${problems.length > 1 ? ` (and ${problems.length - 1} more problem(s))` : ''}`);
  }
  const entry = value as RegistryEntry;
  let slug: string;
  try {
    slug = parseRef(entry.ref).slug;
  } catch (err) {
    throw invalid(file, '/ref', (err as Error).message);
  }
  if (expectedSlug !== undefined && slug !== expectedSlug) {
    throw invalid(file, '/ref', `is ${entry.ref}, whose directory must be named ${slug}, not ${expectedSlug}`);
  }
  const schemaProblems = checkSchema(entry.inputs_schema);
  if (schemaProblems.length > 0) throw invalid(file, '/inputs_schema', `is not a valid JSON Schema: ${schemaProblems.join('; ')}`);
  checkSchemaCompiles(entry.inputs_schema, file);
  const both = (entry.secrets.optional ?? []).filter((n) => entry.secrets.required.includes(n));
  if (both.length > 0) throw invalid(file, '/secrets', `lists ${both.join(', ')} as both required and optional`);
  checkPassedNames(entry, file);
  const seen = new Set<string>();
  for (const [i, output] of entry.outputs.entries()) {
    if (seen.has(output.path)) throw invalid(file, `/outputs/${i}/path`, `repeats ${JSON.stringify(output.path)}`);
    seen.add(output.path);
  }
  return entry;
}

/**
 * A schema can be valid JSON Schema and still not compile: a `$ref` to another document (procctl
 * fetches nothing) or to a `$defs` entry that is not there. Refused here, naming the `$ref`,
 * rather than failing every run later.
 */
function checkSchemaCompiles(schema: Record<string, unknown>, file: string): void {
  try {
    compileSchema(schema);
  } catch (err) {
    const missing = (err as { missingRef?: unknown }).missingRef;
    if (typeof missing !== 'string') throw invalid(file, '/inputs_schema', `does not compile: ${(err as Error).message}`);
    const at = refPointer(schema, missing);
    throw invalid(file, `/inputs_schema${at}`, `refers to ${JSON.stringify(missing)}, which cannot be resolved: a $ref must point inside the schema itself (e.g. "#/$defs/name"); procctl fetches no other documents`);
  }
}

/** The pointer of the first `$ref` that names `missing` (or ends in it), else the schema root. */
function refPointer(schema: unknown, missing: string): string {
  const stack: { value: unknown; pointer: string }[] = [{ value: schema, pointer: '' }];
  for (let item = stack.pop(); item; item = stack.pop()) {
    if (item.value === null || typeof item.value !== 'object') continue;
    const record = item.value as Record<string, unknown>;
    if (typeof record['$ref'] === 'string' && (record['$ref'] === missing || missing.endsWith(record['$ref']) || record['$ref'].startsWith(missing))) return `${item.pointer}/$ref`;
    for (const key of Object.keys(record).reverse()) stack.push({ value: record[key], pointer: `${item.pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}` });
  }
  return '';
}

/**
 * The variables a placement passes into a processor's environment. PROCCTL_* names are the
 * runtime's own settings (its bearer token, pinned digest, address): one passed through from the
 * caller's environment would replace what procctl set. A name that is both a secret and config
 * would be handled as a secret in one place and as plain config in another.
 */
function checkPassedNames(entry: RegistryEntry, file: string): void {
  const lists: [string, string[]][] = [
    ['/secrets/required', entry.secrets.required],
    ['/secrets/optional', entry.secrets.optional ?? []],
    ['/config', entry.config ?? []],
  ];
  for (const [pointer, names] of lists) {
    for (const [i, name] of names.entries()) {
      if (name.startsWith(RESERVED_ENV_PREFIX)) throw invalid(file, `${pointer}/${i}`, `is ${name}: ${RESERVED_ENV_PREFIX}* names are procctl's own runtime settings and are never passed to a processor`);
    }
  }
  const secrets = [...entry.secrets.required, ...(entry.secrets.optional ?? [])];
  const shared = (entry.config ?? []).filter((n) => secrets.includes(n));
  if (shared.length > 0) throw invalid(file, '/config', `lists ${shared.join(', ')}, which ${shared.length === 1 ? 'is' : 'are'} also declared as a secret; a name is one or the other`);
}

/**
 * Reads the entry at `path`. Errors name it as `file` — its path inside the registry folder
 * (`<slug>/registry.yaml`), never the host path: an envelope must not depend on where the
 * registry lives.
 */
export function readEntryFile(path: string, file: string, expectedSlug?: string): RegistryEntry {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw invalid(file, '', `cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseEntry(text, file, expectedSlug);
}
