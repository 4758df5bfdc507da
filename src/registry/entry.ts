/**
 * Reading and checking one registry entry file. Every problem names the file and the field, so a
 * broken entry is fixed from the message alone.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cacheRead, cacheWrite } from '../cache/disk-cache.js';
import { contentId, contentIdHex } from '../contracts/content-id.js';
import { ProcctlError } from '../contracts/errors.js';
import { checkSchema, validateAgainst } from '../contracts/validator.js';
import { REGISTRY_ENTRY_SCHEMA } from './entry-schema.js';
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
const CACHE_NAMESPACE = 'registry-v1';

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
  const value: unknown = doc.toJS();
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
  const both = (entry.secrets.optional ?? []).filter((n) => entry.secrets.required.includes(n));
  if (both.length > 0) throw invalid(file, '/secrets', `lists ${both.join(', ')} as both required and optional`);
  const seen = new Set<string>();
  for (const [i, output] of entry.outputs.entries()) {
    if (seen.has(output.path)) throw invalid(file, `/outputs/${i}/path`, `repeats ${JSON.stringify(output.path)}`);
    seen.add(output.path);
  }
  return entry;
}

export function readEntryFile(file: string, expectedSlug?: string): RegistryEntry {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw invalid(file, '', `cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseEntry(text, file, expectedSlug);
}
