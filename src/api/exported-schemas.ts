/** The schemas published under schemas/ for implementations in other languages. */
import { ENVELOPE_V1_SCHEMA, INPUTS_V1_SCHEMA } from '../contracts/schemas.js';
import { REGISTRY_ENTRY_SCHEMA } from '../registry/entry-schema.js';

export const EXPORTED_SCHEMAS = {
  'inputs.v1.schema.json': INPUTS_V1_SCHEMA,
  'envelope.v1.schema.json': ENVELOPE_V1_SCHEMA,
  'registry-entry.v1.schema.json': REGISTRY_ENTRY_SCHEMA,
} as const;
