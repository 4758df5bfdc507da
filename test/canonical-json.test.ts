import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import canonicalize from 'canonicalize';
import { canonicalJson } from '../src/index.js';

/** A small seeded generator, so a failure names a value that can be reproduced. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = ['a', 'B', 'z', '0', ' ', '"', '\\', '/', '\n', '\u0007', '\u007f', 'é', 'e\u0301', '€', '\u2028', '😀', '\ud83d\ude00', 'Ω', '中', '\u0000', '~'];
const NUMBERS = [0, -0, 1, -1, 0.1, 0.1 + 0.2, 1e21, 1e-7, 123456789012345680000, 5e-324, Number.MAX_SAFE_INTEGER, -1.5e300, 2 ** 53 + 2, 100];

function value(rand: () => number, depth: number): unknown {
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)] as T;
  const text = () => Array.from({ length: Math.floor(rand() * 6) }, () => pick(PIECES)).join('');
  const r = rand();
  if (depth > 4 || r < 0.3) return pick([null, true, false, text(), pick(NUMBERS), rand() * 1e6 - 5e5, Math.floor(rand() * 1e9)]);
  if (r < 0.6) return Array.from({ length: Math.floor(rand() * 5) }, () => (rand() < 0.05 ? undefined : value(rand, depth + 1)));
  const object: Record<string, unknown> = {};
  for (let i = Math.floor(rand() * 6); i > 0; i--) object[text()] = rand() < 0.05 ? undefined : value(rand, depth + 1);
  return object;
}

describe('canonical JSON against the canonicalize package (the reference)', () => {
  it('gives the same text for 5000 generated values', () => {
    const rand = prng(20261122);
    for (let i = 0; i < 5000; i++) {
      const v = value(rand, 0);
      assert.equal(canonicalJson(v), canonicalize(v), `value #${i}: ${JSON.stringify(v)}`);
    }
  });

  it('uses toJSON like JSON.stringify, and drops undefined members', () => {
    const v = { when: new Date(0), gone: undefined, list: [undefined, 1] };
    assert.equal(canonicalJson(v), canonicalize(v));
    assert.equal(canonicalJson(v), '{"list":[null,1],"when":"1970-01-01T00:00:00.000Z"}');
  });

  it('refuses what I-JSON cannot carry: lone surrogates, NaN, Infinity, cycles', () => {
    assert.throws(() => canonicalJson('\ud83d'), /lone surrogate/);
    assert.throws(() => canonicalJson({ ['\udc00']: 1 }), /lone surrogate/);
    assert.throws(() => canonicalJson([Number.NaN]), /NaN is not a JSON number/);
    assert.throws(() => canonicalJson(Infinity), /Infinity is not a JSON number/);
    const cycle: Record<string, unknown> = {};
    cycle['self'] = cycle;
    assert.throws(() => canonicalJson(cycle), /nested more than 1000 levels deep \(or circular\)/);
  });
});
