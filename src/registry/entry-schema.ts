/** The JSON Schema of a registry entry file (`processors/<slug>/registry.yaml`). */

export const SECRET_NAME_PATTERN = '^[A-Z_][A-Z0-9_]*$';

/** Environment names of procctl's own runtime settings; no secret or config may use them. */
export const RESERVED_ENV_PREFIX = 'PROCCTL_';

export const REGISTRY_ENTRY_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://procctl.dev/schemas/registry-entry.v1.schema.json',
  title: 'procctl registry entry v1',
  type: 'object',
  required: ['ref', 'image', 'secrets', 'runtime', 'inputs_schema', 'outputs'],
  additionalProperties: false,
  properties: {
    ref: { type: 'string' },
    title: { type: 'string' },
    description: { type: 'string' },
    image: {
      type: 'object',
      required: ['repository', 'digests'],
      additionalProperties: false,
      properties: {
        repository: { type: 'string', pattern: '^[a-z0-9.:-]+(/[a-z0-9._-]+)+$' },
        digests: {
          type: 'object',
          propertyNames: { pattern: '^linux/[a-z0-9]+$' },
          additionalProperties: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' },
        },
      },
    },
    secrets: {
      type: 'object',
      required: ['required'],
      additionalProperties: false,
      properties: {
        required: { type: 'array', uniqueItems: true, items: { type: 'string', pattern: SECRET_NAME_PATTERN } },
        optional: { type: 'array', uniqueItems: true, items: { type: 'string', pattern: SECRET_NAME_PATTERN } },
      },
    },
    config: {
      description: 'Names of non-secret environment variables a real-mode placement passes through (base URLs, model names).',
      type: 'array',
      uniqueItems: true,
      items: { type: 'string', pattern: SECRET_NAME_PATTERN },
    },
    runtime: {
      type: 'object',
      required: ['timeout_s', 'concurrency'],
      additionalProperties: false,
      properties: {
        cpu: { type: 'number', exclusiveMinimum: 0, maximum: 256 },
        memory_mb: { type: 'integer', minimum: 16, maximum: 1048576 },
        gpu: { type: 'integer', minimum: 0, maximum: 16 },
        pids: { type: 'integer', minimum: 8, maximum: 65536 },
        timeout_s: { type: 'number', exclusiveMinimum: 0, maximum: 86400 },
        concurrency: { type: 'integer', minimum: 1, maximum: 4096 },
      },
    },
    inputs_schema: { type: 'object' },
    outputs: {
      type: 'array',
      items: {
        type: 'object',
        required: ['path', 'mime'],
        additionalProperties: false,
        properties: {
          path: { type: 'string', minLength: 1 },
          mime: { type: 'string', minLength: 1 },
          description: { type: 'string' },
        },
      },
    },
  },
} as const;
