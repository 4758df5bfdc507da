import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { jsonValueProblem, MAX_JSON_DEPTH, parseIJson, parseJsonText, scanJsonText } from '../src/contracts/i-json.js';
import { canonicalJson, parseInputsBytes, ProcctlError } from '../src/index.js';
import { breaksOf, doc, isFine, textOf } from './helpers/hostile.js';

const RUNS = { numRuns: 400 };

/** JSON.parse's value with -0 read as 0, which is what the checking parse promises. */
function reference(text: string): unknown {
  return JSON.parse(text, (_key, value: unknown) => (Object.is(value, -0) ? 0 : value));
}

describe('I-JSON: the checking parse and the value walk (property-based)', () => {
  it('never throws, and refuses a document exactly when it breaks I-JSON, saying which way', () => {
    fc.assert(
      fc.property(doc, (d) => {
        const text = textOf(d);
        const breaks = breaksOf(d);
        const parsed = parseIJson(text);
        assert.equal(parsed.syntax, undefined, 'generated documents are well-formed JSON');
        if (isFine(breaks)) {
          assert.equal(parsed.problem, undefined, parsed.problem?.message);
          assert.deepEqual(parsed.value, reference(text));
          // What passes can be hashed: the canonical form never throws on it.
          canonicalJson(parsed.value);
        } else {
          assert.ok(parsed.problem, `refused: ${JSON.stringify(breaks)}`);
          assert.ok(breaks[parsed.problem.kind as keyof typeof breaks], `${parsed.problem.kind} is one of ${JSON.stringify(breaks)}`);
          assert.match(parsed.problem.message, /^(\/|the top level)/);
          // The message itself is I-JSON: it can go into an envelope.
          assert.equal(jsonValueProblem(parsed.problem), undefined);
        }
      }),
      RUNS,
    );
  });

  it('finds the same first problem in a value built in code as in its text (no duplicates there)', () => {
    fc.assert(
      fc.property(doc, (d) => {
        const text = textOf(d);
        if (breaksOf(d).duplicate) return;
        // JSON.parse keeps what I-JSON refuses (Infinity, lone surrogates, any depth): a library
        // caller's object can hold all of it.
        const value = JSON.parse(text) as unknown;
        assert.deepEqual(jsonValueProblem(value), parseIJson(text).problem);
      }),
      RUNS,
    );
  });

  it('agrees with JSON.parse on which texts are JSON at all', () => {
    const near = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 12 }),
      fc.tuple(doc.map(textOf), fc.nat(), fc.constantFrom('', ',', ']', '}', '"', ':', '/', '/*c*/', ' ', '\t', '\u00a0', 'x', '-', '.', 'e', '+')).map(([t, at, junk]) => {
        const cut = t.length === 0 ? 0 : at % (t.length + 1);
        return t.length > 2000 ? t : t.slice(0, cut) + junk + t.slice(cut);
      }),
    );
    fc.assert(
      fc.property(near, (text) => {
        let json = true;
        try {
          JSON.parse(text);
        } catch {
          json = false;
        }
        assert.equal(parseJsonText(text).syntax === undefined, json, text);
      }),
      { numRuns: 2000 },
    );
  });

  it('the quick path (JSON.parse and a member count) and the scanner give the same answer', () => {
    fc.assert(
      fc.property(doc, fc.integer({ min: 1, max: 120 }), (d, limit) => {
        const text = textOf(d);
        const quick = parseJsonText(text, limit);
        const scanned = scanJsonText(text, limit);
        assert.deepEqual(quick.duplicate, scanned.duplicate);
        assert.equal(quick.syntax === undefined, scanned.syntax === undefined);
        // Past the limit the two values differ (the scanner leaves `[]`); the walk reports both alike.
        assert.deepEqual(jsonValueProblem(quick.value, limit), jsonValueProblem(scanned.value, limit));
        if (!jsonValueProblem(scanned.value, limit)) assert.deepEqual(quick.value, scanned.value);
      }),
      RUNS,
    );
  });

  it('reads a __proto__ member as an own member, never the prototype', () => {
    const parsed = parseIJson('{"__proto__":{"polluted":true},"a":1}');
    const value = parsed.value as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
    assert.deepEqual(Object.keys(value), ['__proto__', 'a']);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    assert.equal(canonicalJson(value), '{"__proto__":{"polluted":true},"a":1}');
  });

  it('holds its limit exactly, and a million levels cost no stack', () => {
    const nest = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    assert.equal(parseIJson(nest(MAX_JSON_DEPTH)).problem, undefined);
    assert.equal(parseIJson(nest(MAX_JSON_DEPTH + 1)).problem?.kind, 'depth');
    const deep = parseIJson(`{"a":${nest(1_000_000)}}`);
    assert.equal(deep.problem?.kind, 'depth');
    assert.equal(deep.problem?.pointer, `/a${'/0'.repeat(MAX_JSON_DEPTH - 1)}`);
  });

  it('names the pointer, RFC 6901-escaped, with a lone surrogate in a member name spelled out', () => {
    assert.equal(parseIJson('{"a/b":{"~":1,"~":2}}').problem?.pointer, '/a~1b/~0');
    const p = parseIJson('{"k\\ud800":1}').problem;
    assert.equal(p?.kind, 'surrogate');
    assert.equal(p?.pointer, '/k\\ud800');
  });
});

describe('inputs: I-JSON problems are typed input errors naming the pointer', () => {
  const refused = (text: string) => {
    try {
      parseInputsBytes(Buffer.from(text), '--inputs-json');
    } catch (err) {
      assert.ok(err instanceof ProcctlError);
      return err;
    }
    assert.fail('accepted');
  };
  it('duplicate member names (the last no longer wins silently)', () => {
    const err = refused('{"schema":"v2","schema":"v1","params":{}}');
    assert.equal(err.code, 'ERR_INPUT_INVALID');
    assert.deepEqual(err.details, { source: '--inputs-json', pointer: '/schema', problem: 'duplicate' });
  });
  it('a lone surrogate is an encoding error', () => {
    const err = refused('{"schema":"v1","params":{"t":"a\\ud800b"}}');
    assert.equal(err.code, 'ERR_INPUT_ENCODING');
    assert.equal(err.details?.['pointer'], '/params/t');
  });
  it('1e999 does not become Infinity', () => {
    const err = refused('{"schema":"v1","params":{"temperature":1e999}}');
    assert.equal(err.code, 'ERR_INPUT_INVALID');
    assert.match(err.message, /\/params\/temperature: the number does not fit a double/);
  });
});
