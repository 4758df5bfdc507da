/**
 * JSON Schemas (draft 2020-12) for the contracts other languages implement. The same objects
 * validate at run time here and are exported as files under schemas/ (a test keeps the files equal
 * to these objects), so a Python or Go processor validates against exactly what we enforce.
 */

const CONTENT_ID = { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' } as const;

export const INPUTS_V1_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://procctl.dev/schemas/inputs.v1.schema.json',
  title: 'procctl inputs v1',
  type: 'object',
  required: ['schema', 'params'],
  additionalProperties: false,
  properties: {
    schema: { const: 'v1' },
    mode: { enum: ['mock', 'real'] },
    params: { type: 'object' },
  },
} as const;

const ERROR_OBJECT = {
  type: 'object',
  required: ['code', 'message', 'retryable'],
  additionalProperties: false,
  properties: {
    code: { type: 'string', pattern: '^ERR_[A-Z_]+$' },
    message: { type: 'string' },
    retryable: { type: 'boolean' },
    details: { type: 'object' },
  },
} as const;

const META = {
  type: 'object',
  required: ['mode', 'image_digest', 'platform', 'inputs_hash', 'secrets_present', 'env_fingerprint'],
  additionalProperties: false,
  properties: {
    mode: { enum: ['mock', 'real'] },
    image_digest: { anyOf: [CONTENT_ID, { type: 'null' }] },
    platform: { type: 'string' },
    inputs_hash: { anyOf: [CONTENT_ID, { type: 'null' }] },
    secrets_present: { type: 'array', items: { type: 'string' } },
    env_fingerprint: CONTENT_ID,
  },
} as const;

export const ENVELOPE_V1_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://procctl.dev/schemas/envelope.v1.schema.json',
  title: 'procctl envelope v1',
  oneOf: [
    {
      type: 'object',
      required: ['status', 'execution_id', 'ref', 'outputs', 'index_path', 'meta'],
      additionalProperties: false,
      properties: {
        status: { const: 'success' },
        execution_id: { type: 'string' },
        ref: { type: 'string' },
        outputs: {
          type: 'array',
          items: {
            type: 'object',
            required: ['path', 'cid', 'size_bytes', 'mime'],
            additionalProperties: false,
            properties: {
              path: { type: 'string' },
              cid: CONTENT_ID,
              size_bytes: { type: 'integer', minimum: 0 },
              mime: { type: 'string' },
            },
          },
        },
        index_path: { type: 'string' },
        meta: META,
      },
    },
    {
      type: 'object',
      required: ['status', 'execution_id', 'ref', 'error', 'meta'],
      additionalProperties: false,
      properties: {
        status: { const: 'error' },
        execution_id: { type: 'string' },
        ref: { type: 'string' },
        error: ERROR_OBJECT,
        meta: META,
      },
    },
  ],
} as const;
