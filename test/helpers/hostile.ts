/**
 * The shared property-based harness for hostile JSON (fast-check): generated JSON *documents* as
 * text, so they can hold what a JS value cannot — repeated member names, `1e999`, nesting far
 * past the limit — together with what the document breaks, computed from the generated tree
 * (an oracle of *whether*, not a second parser). Every placement test feeds these same
 * documents: the parser's own tests, the CLI in-process and over `--placement process`, the
 * runtime's frames and a started container.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canonicalJson } from '../../src/contracts/canonical-json.js';
import { MAX_JSON_DEPTH } from '../../src/contracts/i-json.js';
import { rawClient } from './runtime.js';

export type Doc =
  | { t: 'null' | 'true' | 'false' }
  | { t: 'str'; s: string }
  | { t: 'num'; text: string }
  | { t: 'arr'; items: Doc[] }
  | { t: 'obj'; entries: [string, Doc][] }
  /** `levels` arrays nested around `inner`: how depth is generated without a deep tree. */
  | { t: 'deep'; levels: number; inner: Doc };

/** What a document breaks, as I-JSON; empty when it is fine. */
export interface Breaks {
  duplicate: boolean;
  surrogate: boolean;
  number: boolean;
  depth: boolean;
}

const LONE = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));

/** Strings: any Unicode (astral included), JSON's awkward characters, and sometimes a lone surrogate. */
export const hostileString = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
  { weight: 2, arbitrary: fc.constantFrom('', '"', '\\', '\u0000', '\u2028', '\ud83d\ude00', 'e\u0301', '__proto__', 'constructor', '~/', '\uFEFF') },
  { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 3 }), LONE, fc.string({ maxLength: 3 })).map(([a, l, b]) => `${a}${l}${b}`) },
);

const KEY = fc.oneof({ weight: 3, arbitrary: fc.constantFrom('a', 'b', 'schema', '__proto__', '', '0', '10', 'toString') }, { weight: 2, arbitrary: hostileString });

/** Number literals: doubles of every size (and -0), plus ones past a double. */
export const numberText = fc.oneof(
  { weight: 4, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? '-0' : String(n))) },
  { weight: 2, arbitrary: fc.constantFrom('-0', '0', '1e308', '-1.7976931348623157e308', '5e-324', '1e-400', '12345678901234567890123', '9007199254740993', '0.1', '1E+2') },
  { weight: 1, arbitrary: fc.constantFrom('1e999', '-1e999', '2e308', '1e400') },
);

export const doc: fc.Arbitrary<Doc> = fc.letrec<{ doc: Doc }>((tie) => ({
  doc: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom<Doc>({ t: 'null' }, { t: 'true' }, { t: 'false' }),
    hostileString.map((s): Doc => ({ t: 'str', s })),
    numberText.map((text): Doc => ({ t: 'num', text })),
    fc.array(tie('doc'), { maxLength: 4 }).map((items): Doc => ({ t: 'arr', items })),
    fc.array(fc.tuple(KEY, tie('doc')), { maxLength: 4 }).map((entries): Doc => ({ t: 'obj', entries })),
    fc
      .tuple(fc.oneof(fc.integer({ min: 1, max: MAX_JSON_DEPTH + 3 }), fc.integer({ min: 1, max: 5_000 })), tie('doc'))
      .map(([levels, inner]): Doc => ({ t: 'deep', levels, inner })),
  ),
})).doc;

/** The document as JSON text (strings through JSON.stringify, which escapes lone surrogates). */
export function textOf(d: Doc): string {
  const out: string[] = [];
  // Iterative: generated documents nest hundreds of thousands of levels.
  const stack: (Doc | string)[] = [d];
  while (stack.length > 0) {
    const item = stack.pop() as Doc | string;
    if (typeof item === 'string') {
      out.push(item);
      continue;
    }
    switch (item.t) {
      case 'null':
      case 'true':
      case 'false':
        out.push(item.t);
        break;
      case 'str':
        out.push(JSON.stringify(item.s));
        break;
      case 'num':
        out.push(item.text);
        break;
      case 'arr':
        stack.push(']');
        for (let i = item.items.length - 1; i >= 0; i--) {
          stack.push(item.items[i] as Doc);
          if (i > 0) stack.push(',');
        }
        out.push('[');
        break;
      case 'obj':
        stack.push('}');
        for (let i = item.entries.length - 1; i >= 0; i--) {
          const [key, value] = item.entries[i] as [string, Doc];
          stack.push(value, `${JSON.stringify(key)}:`);
          if (i > 0) stack.push(',');
        }
        out.push('{');
        break;
      case 'deep':
        out.push('['.repeat(item.levels));
        stack.push(']'.repeat(item.levels), item.inner);
        break;
    }
  }
  return out.join('');
}

const lone = (s: string) => /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

/** What the document breaks when it sits `baseDepth` containers deep (0: it is the whole text). */
export function breaksOf(d: Doc, baseDepth = 0): Breaks {
  const found: Breaks = { duplicate: false, surrogate: false, number: false, depth: false };
  const stack: { d: Doc; depth: number }[] = [{ d, depth: baseDepth }];
  while (stack.length > 0) {
    const { d: item, depth } = stack.pop() as { d: Doc; depth: number };
    if (item.t === 'str') found.surrogate ||= lone(item.s);
    else if (item.t === 'num') found.number ||= !Number.isFinite(Number(item.text));
    else if (item.t === 'arr' || item.t === 'obj' || item.t === 'deep') {
      const inside = depth + (item.t === 'deep' ? item.levels : 1);
      if (inside > MAX_JSON_DEPTH) {
        found.depth = true;
        continue; // beyond the limit nothing else is looked at
      }
      if (item.t === 'arr') for (const child of item.items) stack.push({ d: child, depth: inside });
      else if (item.t === 'deep') stack.push({ d: item.inner, depth: inside });
      else {
        const keys = new Set<string>();
        for (const [key, value] of item.entries) {
          found.duplicate ||= keys.has(key);
          keys.add(key);
          found.surrogate ||= lone(key);
          stack.push({ d: value, depth: inside });
        }
      }
    }
  }
  return found;
}

export const isFine = (b: Breaks) => !b.duplicate && !b.surrogate && !b.number && !b.depth;

/**
 * Inputs v1 text for the test echo processor with a generated document inside: its schema lets
 * an output item carry extra members, so a fine document runs (writing `text` to g.txt) and a
 * broken one is refused. Its containers start 5 levels deep (inside 4 others).
 */
export function echoInputsText(d: Doc, text: string): string {
  return `{"schema":"v1","params":{"outputs":[{"path":"g.txt","text":${JSON.stringify(text)},"x":${textOf(d)}}]}}`;
}
export const ECHO_DOC_DEPTH = 4;

/** How a runtime answered one frame: the run's envelope (canonical text), or how it closed. */
export type FrameOutcome = { result: string } | { close: number };

/**
 * Sends one text frame (then, optionally, binary data) on a fresh connection and reports the
 * answer: a `result` frame's envelope, or the close code. Bounded: 20 s, then the test fails.
 */
export async function frameOutcome(url: string, token: string, frame: string | Buffer): Promise<FrameOutcome> {
  const client = await rawClient(url, { token });
  client.ws.send(frame, { binary: Buffer.isBuffer(frame) });
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no answer to the frame within 20 s')), 20_000).unref());
  const answer = await Promise.race([client.next('result').then((f) => ({ result: canonicalJson(f['envelope']) })), client.closed.then((c) => ({ close: c.code })), timeout]);
  client.ws.terminate();
  return answer;
}

/** Health and a good run: what "the runtime is still alive and serving" means. */
export async function stillServes(url: string, token: string, goodFrame: string): Promise<void> {
  const health = await fetch(`${url}/healthz`);
  assert.equal(health.status, 200, 'the runtime still answers /healthz');
  const outcome = await frameOutcome(url, token, goodFrame);
  assert.ok('result' in outcome && (JSON.parse(outcome.result) as { status: string }).status === 'success', `a good invoke still succeeds: ${JSON.stringify(outcome)}`);
}

/**
 * Generated frames: an invoke whose inputs are a generated document (spliced in as text, so it
 * may repeat names or hold 1e999), or a frame spoiled as a whole (not JSON, a repeated `kind`,
 * nested past any limit, binary first, a lone surrogate in the execution id).
 */
export function hostileFrames(goodFrame: string): fc.Arbitrary<{ frame: string | Buffer; doc?: Doc }> {
  const at = goodFrame.indexOf('"inputs":') + '"inputs":'.length;
  const end = goodFrame.indexOf(',"write_prefix"');
  const withInputs = (inputs: string) => `${goodFrame.slice(0, at)}${inputs}${goodFrame.slice(end)}`;
  return fc.oneof(
    { weight: 5, arbitrary: doc.map((d) => ({ frame: withInputs(`{"schema":"v1","mode":"mock","params":{"outputs":[{"path":"g.txt","text":"t","x":${textOf(d)}}]}}`), doc: d })) },
    { weight: 1, arbitrary: doc.map((d) => ({ frame: withInputs(textOf(d)) })) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).map((frame) => ({ frame })) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        { frame: goodFrame.replace('{"kind":"invoke"', '{"kind":"invoke","kind":"invoke"') },
        { frame: `${goodFrame.slice(0, -1)},"deep":${'['.repeat(300_000)}${']'.repeat(300_000)}}` },
        { frame: goodFrame.replace(/"execution_id":"[^"]*"/, '"execution_id":"x\\udc00y"') },
        { frame: goodFrame.replace(/"write_prefix":"[^"]*"/, '"write_prefix":"x\\ud800/{execution_id}/"') },
        { frame: goodFrame.slice(0, goodFrame.length >> 1) },
        { frame: Buffer.from('binary before any invoke') },
        { frame: '{"kind":"invoke"}' },
        { frame: `{"kind":${'['.repeat(50_000)}` },
      ),
    },
  );
}
