/**
 * JSON Schema validation through Ajv. One Ajv instance, created on first use (it is the heaviest
 * module the run path loads), with compiled validators cached per schema object.
 */
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';

// Ajv 8 ships CommonJS whose default export does not survive NodeNext's ESM interop typing;
// createRequire gives the constructor with its real type.
const require = createRequire(import.meta.url);
type Ajv2020Class = typeof import('ajv/dist/2020.js').default;

let ajv: InstanceType<Ajv2020Class> | undefined;
const compiled = new WeakMap<object, ValidateFunction>();

function instance(): InstanceType<Ajv2020Class> {
  if (!ajv) {
    const Ajv2020 = (require('ajv/dist/2020.js') as { default: Ajv2020Class }).default;
    ajv = new Ajv2020({ allErrors: true, strict: false });
  }
  return ajv;
}

export interface SchemaProblem {
  /** JSON Pointer into the validated value, e.g. `/params/messages/0/role`; `` is the root. */
  pointer: string;
  message: string;
}

/** Returns the problems, empty when the value is valid. */
export function validateAgainst(schema: object, value: unknown): SchemaProblem[] {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = instance().compile(schema);
    compiled.set(schema, validate);
  }
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
