/**
 * Last line of defence for secret values: any text leaving a handler (log lines, error messages)
 * has the values of the declared secrets replaced by their names. Handlers should never print a
 * value, but a provider error that echoes a key must not carry it into an envelope either — not
 * even a piece of it: text is often cut (a body shortened to 300 characters) before it gets here,
 * so a whole-value match is not enough. Every run of text made of overlapping pieces of a secret,
 * `FRAGMENT_CHARS` characters or longer, is replaced: a cut key is caught on either side of the cut.
 */
export type Redactor = (text: string) => string;

/**
 * The shortest piece of a secret that is redacted on its own. Shorter runs cannot identify or
 * usefully narrow down a credential (an API key has 128+ bits); longer ones could.
 */
export const FRAGMENT_CHARS = 8;

/** Values shorter than this are not credentials and would redact ordinary words. */
const MIN_SECRET_CHARS = 4;

export function secretRedactor(names: Iterable<string>, env: NodeJS.ProcessEnv): Redactor {
  const pairs = [...names]
    .map((name) => [name, env[name]] as const)
    .filter((pair): pair is readonly [string, string] => typeof pair[1] === 'string' && pair[1].length >= MIN_SECRET_CHARS)
    // Longest first, so a value containing another value is named by the longer one.
    .sort((a, b) => b[1].length - a[1].length);
  if (pairs.length === 0) return (text) => text;
  const matchers = pairs.map(([name, value]) => ({ name, value, pieces: piecesOf(value) }));
  return (text) => matchers.reduce((acc, m) => redactOne(acc, m.name, m.value, m.pieces), text);
}

/** Every substring of the value of length FRAGMENT_CHARS (or the value itself, when shorter). */
function piecesOf(value: string): Set<string> {
  const pieces = new Set<string>();
  if (value.length <= FRAGMENT_CHARS) pieces.add(value);
  else for (let i = 0; i + FRAGMENT_CHARS <= value.length; i++) pieces.add(value.slice(i, i + FRAGMENT_CHARS));
  return pieces;
}

function redactOne(text: string, name: string, value: string, pieces: Set<string>): string {
  const width = Math.min(FRAGMENT_CHARS, value.length);
  if (text.length < width) return text;
  // Mark every character covered by a window that is a piece of the secret, then replace each
  // covered run by one marker. Windows overlap, so a fragment of any length ≥ width is covered.
  const covered = new Uint8Array(text.length);
  let any = false;
  for (let i = 0; i + width <= text.length; i++) {
    if (pieces.has(text.slice(i, i + width))) {
      covered.fill(1, i, i + width);
      any = true;
    }
  }
  if (!any) return text;
  let out = '';
  for (let i = 0; i < text.length; ) {
    if (!covered[i]) {
      out += text[i];
      i++;
      continue;
    }
    while (i < text.length && covered[i]) i++;
    out += `[secret ${name}]`;
  }
  return out;
}

/**
 * A URL without its userinfo (`http://user:pass@host/v1` → `http://host/v1`), for every place a
 * configured endpoint is shown or used: credentials belong in secrets, never in a message, a log
 * line or an envelope. Text that does not parse as a URL loses anything between `//` and `@`.
 */
export function withoutUserinfo(url: string): { url: string; hadUserinfo: boolean } {
  try {
    const parsed = new URL(url);
    if (parsed.username === '' && parsed.password === '') return { url, hadUserinfo: false };
    parsed.username = '';
    parsed.password = '';
    return { url: parsed.href.replace(/\/+$/, ''), hadUserinfo: true };
  } catch {
    const stripped = url.replace(/^([^/]*\/\/)[^/@]*@/, '$1');
    return { url: stripped, hadUserinfo: stripped !== url };
  }
}
