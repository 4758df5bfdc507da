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
import { createRequire } from 'node:module';
import { ScanError, SyntaxKind, type createScanner as CreateScanner } from 'jsonc-parser';

// The enums are `const` (inlined by the compiler); only the scanner is needed at run time, and
// only on the slow path. Loading jsonc-parser whole (its formatter and editor too) cost every
// process and every handler thread ~13 ms at start, for text that JSON.parse nearly always takes.
let scannerFactory: typeof CreateScanner | undefined;
function createScanner(text: string, ignoreTrivia: boolean): ReturnType<typeof CreateScanner> {
  scannerFactory ??= (createRequire(import.meta.url)('jsonc-parser/lib/umd/impl/scanner.js') as { createScanner: typeof CreateScanner }).createScanner;
  return scannerFactory(text, ignoreTrivia);
}

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
  // The common case, a clean value, is settled without building a single path.
  if (isCleanJson(root, maxDepth)) return undefined;
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


/** True when a value has no I-JSON problem: the quick pass, allocating nothing per leaf. */
function isCleanJson(root: unknown, maxDepth: number): boolean {
  const values: unknown[] = [root];
  const depths: number[] = [1];
  while (values.length > 0) {
    const value = values.pop();
    const depth = depths.pop() as number;
    if (value === null || typeof value === 'boolean') continue;
    if (typeof value === 'string') {
      if (hasLoneSurrogate(value)) return false;
      continue;
    }
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) return false;
      continue;
    }
    if (typeof value !== 'object' || depth > maxDepth) return false;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        if (!(i in value)) return false;
        values.push(value[i]);
        depths.push(depth + 1);
      }
      continue;
    }
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) return false;
    for (const key of Object.keys(value)) {
      if (hasLoneSurrogate(key)) return false;
      values.push((value as Record<string, unknown>)[key]);
      depths.push(depth + 1);
    }
  }
  return true;
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
 * Parses JSON text (RFC 8259, nothing more: no comments, no trailing commas). Returns the value
 * and the first duplicate member name, or the first syntax error. Numbers are read as doubles
 * (`1e999` becomes Infinity for the value walk to refuse; `-0` becomes 0, its canonical form, so
 * every placement sees the same number).
 *
 * Every protocol frame comes through here, so the common case is quick: a small text that
 * JSON.parse reads, with as many members in the text as in the value (so no name repeats), no -0
 * and no container past the limit, is taken as JSON.parse read it. Anything else goes to the
 * scanner, which says exactly what and where.
 */
export function parseJsonText(text: string, maxDepth = MAX_JSON_DEPTH): JsonTextResult {
  return quickParse(text, maxDepth) ?? scanJsonText(text, maxDepth);
}

/** Texts up to this many characters may take the quick path (JSON.parse holds at most this deep). */
const QUICK_MAX_CHARS = 65_536;

function quickParse(text: string, maxDepth: number): JsonTextResult | undefined {
  if (text.length > QUICK_MAX_CHARS) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return plainMembers(value, maxDepth) === memberSeparators(text) ? { value } : undefined;
}

/**
 * The colons outside strings of a text JSON.parse accepted: exactly its member separators. A
 * character loop, because every frame pays for it (a regex over the text cost several times more).
 */
function memberSeparators(text: string): number {
  let colons = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c) i++; // a backslash: the next character is escaped
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) inString = true;
    else if (code === 0x3a) colons++;
  }
  return colons;
}

/** Members of every object in a parsed value; -1 for a -0 or a container past the limit. */
function plainMembers(root: unknown, maxDepth: number): number {
  let members = 0;
  const stack: { value: unknown; depth: number }[] = [{ value: root, depth: 1 }];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const { value, depth } = item;
    if (typeof value === 'number' && Object.is(value, -0)) return -1;
    if (value === null || typeof value !== 'object') continue;
    if (depth > maxDepth) return -1;
    const children = Array.isArray(value) ? value : Object.values(value);
    if (!Array.isArray(value)) members += children.length;
    for (const child of children) if (child !== null && (typeof child === 'object' || child === 0)) stack.push({ value: child, depth: depth + 1 });
  }
  return members;
}

/**
 * The scanner path: jsonc-parser's scanner and an explicit stack, so any depth is safe. Containers
 * past the limit are read (the grammar still checked) but not built: they are left as `[]`, and
 * their nesting is kept one byte a level, so a text of nothing but `[` costs its length, no more.
 */
export function scanJsonText(text: string, maxDepth = MAX_JSON_DEPTH): JsonTextResult {
  const scanner = createScanner(text, false);
  const stack: Open[] = [];
  // Past the limit: the kinds of the open, unbuilt containers (ARRAY or OBJECT), innermost last.
  let skipped = new Uint8Array(64);
  let skippedCount = 0;
  let duplicate: JsonProblem | undefined;
  let root: unknown;
  let done = false;
  // What the grammar allows next: a value, a member name (or `}` right after `{`), or `,`/close.
  // (Assigned in `place` too, which the compiler's narrowing does not see: hence the cast.)
  let expect = 'value' as 'value' | 'first-value' | 'key' | 'first-key' | 'colon' | 'after';
  const fail = (message: string) => ({ syntax: { message: `${message} at offset ${scanner.getTokenOffset()}`, offset: scanner.getTokenOffset() } });

  const place = (value: unknown): void => {
    expect = 'after';
    if (skippedCount > 0) return;
    const top = stack[stack.length - 1];
    if (!top) {
      root = value;
      done = true;
    } else if (Array.isArray(top.container)) {
      top.container.push(value);
    } else {
      setMember(top.container, top.key as string, value);
    }
  };
  const childNode = (): PathNode | undefined => {
    const top = stack[stack.length - 1];
    if (!top) return undefined;
    return { parent: top.node, segment: Array.isArray(top.container) ? String(top.container.length) : (top.key as string) };
  };
  const topIsArray = (): boolean => (skippedCount > 0 ? skipped[skippedCount - 1] === ARRAY : Array.isArray((stack[stack.length - 1] as Open).container));
  const open = (isObject: boolean): void => {
    expect = isObject ? 'first-key' : 'first-value';
    if (skippedCount > 0 || stack.length >= maxDepth) {
      if (skippedCount === skipped.length) {
        const grown = new Uint8Array(skipped.length * 2);
        grown.set(skipped);
        skipped = grown;
      }
      skipped[skippedCount++] = isObject ? OBJECT : ARRAY;
      return;
    }
    stack.push({ container: isObject ? {} : [], node: childNode() });
  };
  const close = (): void => {
    if (skippedCount > 0) {
      skippedCount--;
      // The outermost unbuilt container ends: `[]` stands for it, which the value walk reports.
      if (skippedCount === 0) place([]);
      else expect = 'after';
      return;
    }
    place((stack.pop() as Open).container);
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
        const isArray = topIsArray();
        if (token === SyntaxKind.CommaToken) {
          expect = isArray ? 'value' : 'key';
          continue;
        }
        if (token !== (isArray ? SyntaxKind.CloseBracketToken : SyntaxKind.CloseBraceToken)) return fail(`expected "," or "${isArray ? ']' : '}'}"`);
        close();
        continue;
      }
      case 'key':
      case 'first-key': {
        if (token === SyntaxKind.CloseBraceToken && expect === 'first-key') {
          close();
          continue;
        }
        if (token !== SyntaxKind.StringLiteral) return fail('expected a member name in double quotes');
        expect = 'colon';
        if (skippedCount > 0) continue;
        const top = stack[stack.length - 1] as Open;
        const key = scanner.getTokenValue();
        if (!duplicate && Object.hasOwn(top.container, key)) {
          const node = { parent: top.node, segment: key };
          duplicate = problem('duplicate', node, `member name ${JSON.stringify(spellLoneSurrogates(key))} appears more than once; I-JSON member names are unique`);
        }
        top.key = key;
        continue;
      }
      case 'first-value':
      case 'value':
        if (expect === 'first-value' && token === SyntaxKind.CloseBracketToken) {
          close();
          continue;
        }
        switch (token) {
          case SyntaxKind.OpenBraceToken:
            open(true);
            continue;
          case SyntaxKind.OpenBracketToken:
            open(false);
            continue;
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

const ARRAY = 1;
const OBJECT = 2;

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
