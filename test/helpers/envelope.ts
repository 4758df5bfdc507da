/** Reading a CLI's `--json` answer: exactly one schema-valid envelope line, errors checked whole. */
import assert from 'node:assert/strict';
import { ENVELOPE_V1_SCHEMA, validateAgainst, type Envelope, type ErrorEnvelope } from '../../src/index.js';
import type { CliResult } from './cli.js';

export function envelopeOf(result: CliResult): Envelope {
  const lines = result.stdout.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `--json prints exactly one line; got:\n${result.stdout}\nstderr:\n${result.stderr}`);
  const envelope = JSON.parse(lines[0] as string) as Envelope;
  assert.deepEqual(validateAgainst(ENVELOPE_V1_SCHEMA, envelope), []);
  return envelope;
}

export function errorOf(result: CliResult, code: string, exitCode: number): ErrorEnvelope['error'] {
  const envelope = envelopeOf(result);
  assert.equal(envelope.status, 'error', result.stdout);
  assert.equal((envelope as ErrorEnvelope).error.code, code, result.stdout);
  assert.equal(result.code, exitCode);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  return (envelope as ErrorEnvelope).error;
}
