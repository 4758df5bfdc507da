/**
 * JSON Schema validation through Ajv. Compiling a schema costs far more than validating with it,
 * and loading Ajv itself is the heaviest thing on the run path, so compiled validators are kept as
 * Ajv standalone code in the disk cache, keyed by the schema's content id: a warm start evaluates
 * that code with Ajv's small runtime helpers and never loads the compiler.
 */
import { createRequire } from 'node:module';
import type { ErrorObject } from 'ajv';
import { cacheRead, cacheWrite } from '../cache/disk-cache.js';
import { canonicalContentId, contentIdHex } from './content-id.js';

// Ajv 8 ships CommonJS whose default export does not survive NodeNext's ESM interop typing;
// createRequire gives the constructor with its real type. The same require serves the runtime
// helpers (`ajv/dist/runtime/*`) that standalone validator code asks for.
const require = createRequire(import.meta.url);
type Ajv2020Class = typeof import('ajv/dist/2020.js').default;
type Validate = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

let ajv: InstanceType<Ajv2020Class> | undefined;
const compiled = new WeakMap<object, Validate>();
const CACHE_NAMESPACE = 'ajv-v8';

function instance(): InstanceType<Ajv2020Class> {
  if (!ajv) {
    const Ajv2020 = (require('ajv/dist/2020.js') as { default: Ajv2020Class }).default;
    ajv = new Ajv2020({ allErrors: true, strict: false, code: { source: true } });
  }
  return ajv;
}

function evaluate(code: string): Validate {
  const module = { exports: {} as unknown };
  // Standalone output is a CommonJS module body; it is code we generated from our own schemas.
  new Function('require', 'module', 'exports', code)(require, module, module.exports);
  return module.exports as Validate;
}

function validatorFor(schema: object): Validate {
  const known = compiled.get(schema);
  if (known) return known;
  const key = `${contentIdHex(canonicalContentId(schema))}.cjs`;
  const cached = cacheRead(CACHE_NAMESPACE, key);
  let validate: Validate | undefined;
  if (cached !== undefined) {
    try {
      validate = evaluate(cached);
    } catch {
      validate = undefined; // a damaged cache file: compile afresh below
    }
  }
  if (!validate) {
    const ajvInstance = instance();
    const fresh = ajvInstance.compile(schema);
    const standaloneCode = (require('ajv/dist/standalone/index.js') as { default: (a: typeof ajvInstance, v: typeof fresh) => string }).default;
    cacheWrite(CACHE_NAMESPACE, key, standaloneCode(ajvInstance, fresh));
    validate = fresh as Validate;
  }
  compiled.set(schema, validate);
  return validate;
}

export interface SchemaProblem {
  /** JSON Pointer into the validated value, e.g. `/params/messages/0/role`; `` is the root. */
  pointer: string;
  message: string;
}

/** Compiles a schema (or finds it compiled); throws Ajv's error when it does not compile. */
export function compileSchema(schema: object): void {
  validatorFor(schema);
}

/** Returns the problems, empty when the value is valid. */
export function validateAgainst(schema: object, value: unknown): SchemaProblem[] {
  const validate = validatorFor(schema);
  if (validate(value)) return [];
  return (validate.errors ?? []).map(describe);
}

/** Checks that a schema itself is valid JSON Schema; returns the problems. */
export function checkSchema(schema: unknown): string[] {
  const ok = instance().validateSchema(schema as object);
  if (ok) return [];
  return (instance().errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
}

function describe(error: ErrorObject): SchemaProblem {
  let message = error.message ?? 'is invalid';
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties') message = `has unknown property "${String(params['additionalProperty'])}"`;
  else if (error.keyword === 'required') message = `is missing required property "${String(params['missingProperty'])}"`;
  else if (error.keyword === 'enum') message = `must be one of ${JSON.stringify(params['allowedValues'])}`;
  else if (error.keyword === 'const') message = `must be ${JSON.stringify(params['allowedValue'])}`;
  return { pointer: error.instancePath, message };
}

export function formatProblems(problems: SchemaProblem[], root: string): string {
  return problems.map((p) => `${root}${p.pointer} ${p.message}`).join('; ');
}
