/**
 * I-JSON (RFC 7493), which canonical JSON (RFC 8785) presumes: no duplicate member names, no lone
 * surrogates in strings or member names, numbers that fit an IEEE double, and — ours — a nesting
 * limit. `JSON.parse` hides duplicates (the last wins) and reads `1e999` as Infinity, so raw text
 * goes through `parseJsonText`; values built in code (a library caller's objects) through
 * `jsonValueProblem`. Both are iterative: no input is deep enough to exhaust the stack.
 *
 * The parse is lenient on purpose: it reports the first duplicate and otherwise builds the value
 * (over-deep containers become `[]` at the depth where the limit is crossed), so that the one walk
 * in `jsonValueProblem` finds every other problem the same way for text and for objects, in the
 * same order, with the same message.
 */
import { createScanner, ScanError, SyntaxKind } from 'jsonc-parser';

/** Containers nested deeper than this (the outermost one is level 1) are refused. */
export const MAX_JSON_DEPTH = 100;

export type JsonProblemKind = 'duplicate' | 'surrogate' | 'number' | 'depth' | 'type';

export interface JsonProblem {
  kind: JsonProblemKind;
  /** RFC 6901 pointer; a lone surrogate in a member name is written as the text `\uXXXX`. */
  pointer: string;
  /** What is wrong, without where: `member name "a" appears more than once; …`. */
  what: string;
  /** Where and what: `/params/a: member name "a" appears more than once; …`. */
  message: string;
}

function located(kind: JsonProblemKind, pointer: string, what: string): JsonProblem {
  return { kind, pointer, what, message: `${pointer === '' ? 'the top level' : pointer}: ${what}` };
}

/** The problem as seen from inside the value at `prefix` (a frame's `/inputs`). */
export function rebaseProblem(found: JsonProblem, prefix: string): JsonProblem {
  return located(found.kind, found.pointer.startsWith(prefix) ? found.pointer.slice(prefix.length) : found.pointer, found.what);
}

export type JsonTextResult = { value: unknown; duplicate?: JsonProblem; syntax?: undefined } | { syntax: { message: string; offset: number }; value?: undefined; duplicate?: undefined };

interface PathNode {
  parent: PathNode | undefined;
  segment: string;
}

/** The pointer of a path, lone surrogates spelled out so the text is itself valid I-JSON. */
function pointerOf(node: PathNode | undefined): string {
  const segments: string[] = [];
  for (let n = node; n; n = n.parent) segments.push(n.segment);
  let out = '';
  for (let i = segments.length - 1; i >= 0; i--) out += `/${(segments[i] as string).replace(/~/g, '~0').replace(/\//g, '~1')}`;
  return spellLoneSurrogates(out);
}

function spellLoneSurrogates(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function hasLoneSurrogate(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0xd800 || code > 0xdfff) continue;
    if (code >= 0xdc00) return true;
    const next = text.charCodeAt(i + 1);
    if (!(next >= 0xdc00 && next <= 0xdfff)) return true;
    i++;
  }
  return false;
}

function problem(kind: JsonProblemKind, node: PathNode | undefined, what: string): JsonProblem {
  return located(kind, pointerOf(node), what);
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'object' && value !== null) return `a ${(Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor?.name ?? 'non-plain'} object`;
  return `a ${typeof value}`;
}

/**
 * The first I-JSON problem of a value built in code, in document order (pre-order, members in
 * `Object.keys` order), or undefined. Only plain objects, arrays, strings, finite numbers,
 * booleans and null are JSON: anything else (undefined, a Date, a BigInt) would reach a handler
 * differently in-process and over the wire, so it is refused rather than guessed at.
 */
export function jsonValueProblem(root: unknown, maxDepth = MAX_JSON_DEPTH): JsonProblem | undefined {
  const stack: { value: unknown; depth: number; node: PathNode | undefined; key?: string }[] = [{ value: root, depth: 1, node: undefined }];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const { value, depth, node } = item;
    if (item.key !== undefined && hasLoneSurrogate(item.key)) return problem('surrogate', node, `a member name has a lone surrogate; I-JSON strings are well-formed Unicode`);
    if (value === null || typeof value === 'boolean') continue;
    if (typeof value === 'string') {
      if (hasLoneSurrogate(value)) return problem('surrogate', node, `a string has a lone surrogate; I-JSON strings are well-formed Unicode`);
      continue;
    }
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) return problem('number', node, `the number ${Number.isNaN(value) ? 'is NaN' : 'does not fit a double'}; I-JSON numbers are finite IEEE 754 doubles`);
      continue;
    }
    if (typeof value !== 'object') return problem('type', node, `${describe(value)} is not a JSON value`);
    if (depth > maxDepth) return problem('depth', node, `the value is nested more than ${maxDepth} levels deep, the limit`);
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) {
        const child = { parent: node, segment: String(i) };
        if (!(i in value)) return problem('type', child, `an array hole is not a JSON value`);
        stack.push({ value: value[i], depth: depth + 1, node: child });
      }
      continue;
    }
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) return problem('type', node, `${describe(value)} is not a JSON value`);
    const keys = Object.keys(value);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i] as string;
      stack.push({ value: (value as Record<string, unknown>)[key], depth: depth + 1, node: { parent: node, segment: key }, key });
    }
  }
  return undefined;
}

interface Open {
  container: Record<string, unknown> | unknown[];
  node: PathNode | undefined;
  /** The member name whose value comes next (objects only). */
  key?: string;
}

const SCAN_ERRORS: Record<number, string> = {
  [ScanError.UnexpectedEndOfComment]: 'unterminated comment',
  [ScanError.UnexpectedEndOfString]: 'unterminated string',
  [ScanError.UnexpectedEndOfNumber]: 'a number ends too early',
  [ScanError.InvalidUnicode]: 'a \\u escape needs four hex digits',
  [ScanError.InvalidEscapeCharacter]: 'an invalid escape in a string',
  [ScanError.InvalidCharacter]: 'a control character in a string must be escaped',
};

function setMember(target: Record<string, unknown>, key: string, value: unknown): void {
  // `__proto__` is an own member, as JSON.parse makes it, never the prototype.
  if (key === '__proto__') Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  else target[key] = value;
}

/**
 * Parses JSON text (RFC 8259, nothing more: no comments, no trailing commas) with jsonc-parser's
 * scanner and an explicit stack. Returns the value and the first duplicate member name, or the
 * first syntax error. Numbers are read as doubles (`1e999` becomes Infinity for the value walk to
 * refuse; `-0` becomes 0, its canonical form, so every placement sees the same number).
 */
export function parseJsonText(text: string, maxDepth = MAX_JSON_DEPTH): JsonTextResult {
  const scanner = createScanner(text, false);
  const stack: Open[] = [];
  let duplicate: JsonProblem | undefined;
  let root: unknown;
  let done = false;
  // What the grammar allows next: a value, a member name (or `}` right after `{`), or `,`/close.
  // (Assigned in `place` too, which the compiler's narrowing does not see: hence the cast.)
  let expect = 'value' as 'value' | 'first-value' | 'key' | 'first-key' | 'colon' | 'after';
  const fail = (message: string) => ({ syntax: { message: `${message} at offset ${scanner.getTokenOffset()}`, offset: scanner.getTokenOffset() } });

  const place = (value: unknown): void => {
    const top = stack[stack.length - 1];
    if (!top) {
      root = value;
      done = true;
    } else if (Array.isArray(top.container)) {
      top.container.push(value);
    } else {
      setMember(top.container, top.key as string, value);
    }
    expect = 'after';
  };
  const childNode = (): PathNode | undefined => {
    const top = stack[stack.length - 1];
    if (!top) return undefined;
    return { parent: top.node, segment: Array.isArray(top.container) ? String(top.container.length) : (top.key as string) };
  };

  for (;;) {
    const token = scanner.scan();
    if (token === SyntaxKind.Trivia || token === SyntaxKind.LineBreakTrivia) continue;
    const scanError = scanner.getTokenError();
    if (scanError !== ScanError.None) return fail(SCAN_ERRORS[scanError] ?? 'invalid token');
    if (token === SyntaxKind.EOF) {
      if (done) return { value: root, ...(duplicate && { duplicate }) };
      return fail('unexpected end of JSON');
    }
    if (done) return fail('unexpected text after the JSON value');
    if (token === SyntaxKind.LineCommentTrivia || token === SyntaxKind.BlockCommentTrivia) return fail('comments are not JSON');
    switch (expect) {
      case 'colon':
        if (token !== SyntaxKind.ColonToken) return fail('expected ":"');
        expect = 'value';
        continue;
      case 'after': {
        const top = stack[stack.length - 1] as Open;
        const isArray = Array.isArray(top.container);
        if (token === SyntaxKind.CommaToken) {
          expect = isArray ? 'value' : 'key';
          continue;
        }
        if (token !== (isArray ? SyntaxKind.CloseBracketToken : SyntaxKind.CloseBraceToken)) return fail(`expected "," or "${isArray ? ']' : '}'}"`);
        stack.pop();
        place(top.container);
        continue;
      }
      case 'key':
      case 'first-key': {
        if (token === SyntaxKind.CloseBraceToken && expect === 'first-key') {
          const top = stack.pop() as Open;
          place(top.container);
          continue;
        }
        if (token !== SyntaxKind.StringLiteral) return fail('expected a member name in double quotes');
        const top = stack[stack.length - 1] as Open;
        const key = scanner.getTokenValue();
        if (!duplicate && Object.hasOwn(top.container, key)) {
          const node = { parent: top.node, segment: key };
          duplicate = problem('duplicate', node, `member name ${JSON.stringify(spellLoneSurrogates(key))} appears more than once; I-JSON member names are unique`);
        }
        top.key = key;
        expect = 'colon';
        continue;
      }
      case 'first-value':
      case 'value':
        if (expect === 'first-value' && token === SyntaxKind.CloseBracketToken) {
          const top = stack.pop() as Open;
          place(top.container);
          continue;
        }
        switch (token) {
          case SyntaxKind.OpenBraceToken:
          case SyntaxKind.OpenBracketToken: {
            if (stack.length >= maxDepth) {
              // Over the limit: skip the container (still checking its brackets) and leave `[]`,
              // which the value walk reports, at this depth, as too deep.
              const skipped = skipContainer(scanner, token);
              if (skipped) return { syntax: skipped };
              place([]);
              continue;
            }
            const isObject = token === SyntaxKind.OpenBraceToken;
            stack.push({ container: isObject ? {} : [], node: childNode() });
            expect = isObject ? 'first-key' : 'first-value';
            continue;
          }
          case SyntaxKind.StringLiteral:
            place(scanner.getTokenValue());
            continue;
          case SyntaxKind.NumericLiteral: {
            const n = Number(scanner.getTokenValue());
            place(n === 0 ? 0 : n);
            continue;
          }
          case SyntaxKind.TrueKeyword:
            place(true);
            continue;
          case SyntaxKind.FalseKeyword:
            place(false);
            continue;
          case SyntaxKind.NullKeyword:
            place(null);
            continue;
          default:
            return fail('expected a JSON value');
        }
    }
  }
}

/** Consumes one container whose opening token was just read; a syntax error, or undefined. */
function skipContainer(scanner: ReturnType<typeof createScanner>, open: SyntaxKind): { message: string; offset: number } | undefined {
  const closers: SyntaxKind[] = [open === SyntaxKind.OpenBraceToken ? SyntaxKind.CloseBraceToken : SyntaxKind.CloseBracketToken];
  while (closers.length > 0) {
    const token = scanner.scan();
    const offset = scanner.getTokenOffset();
    if (scanner.getTokenError() !== ScanError.None || token === SyntaxKind.Unknown || token === SyntaxKind.LineCommentTrivia || token === SyntaxKind.BlockCommentTrivia) return { message: `invalid token at offset ${offset}`, offset };
    if (token === SyntaxKind.EOF) return { message: `unexpected end of JSON at offset ${offset}`, offset };
    if (token === SyntaxKind.OpenBraceToken) closers.push(SyntaxKind.CloseBraceToken);
    else if (token === SyntaxKind.OpenBracketToken) closers.push(SyntaxKind.CloseBracketToken);
    else if (token === SyntaxKind.CloseBraceToken || token === SyntaxKind.CloseBracketToken) {
      if (closers.pop() !== token) return { message: `mismatched bracket at offset ${offset}`, offset };
    }
  }
  return undefined;
}

/** V8's own wording for text that is not JSON, so messages read as they always have. */
export function syntaxMessage(text: string, fallback: string): string {
  try {
    JSON.parse(text);
  } catch (err) {
    return (err as Error).message;
  }
  return fallback;
}

/** Both checks for raw text: a syntax message, or the value and its first I-JSON problem. */
export function parseIJson(text: string, maxDepth = MAX_JSON_DEPTH): { value: unknown; problem?: JsonProblem; syntax?: undefined } | { syntax: string; value?: undefined; problem?: undefined } {
  const parsed = parseJsonText(text, maxDepth);
  if (parsed.syntax) return { syntax: syntaxMessage(text, parsed.syntax.message) };
  const found = parsed.duplicate ?? jsonValueProblem(parsed.value, maxDepth);
  return { value: parsed.value, ...(found && { problem: found }) };
}

/** The text with each lone surrogate replaced by U+FFFD, so it can always go into an envelope. */
export function wellFormed(text: string): string {
  return hasLoneSurrogate(text) ? text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD') : text;
}
