/**
 * Last line of defence for secret values: any text leaving a handler (log lines, error messages)
 * has the values of the declared secrets replaced by their names. Handlers should never print a
 * value, but a provider error that echoes a key must not carry it into an envelope either.
 */
export type Redactor = (text: string) => string;

export function secretRedactor(names: Iterable<string>, env: NodeJS.ProcessEnv): Redactor {
  // Longest first, so a value containing another value is replaced whole. Very short values would
  // redact ordinary words, and are not credentials anyway.
  const pairs = [...names]
    .map((name) => [name, env[name]] as const)
    .filter((pair): pair is readonly [string, string] => typeof pair[1] === 'string' && pair[1].length >= 4)
    .sort((a, b) => b[1].length - a[1].length);
  if (pairs.length === 0) return (text) => text;
  return (text) => pairs.reduce((acc, [name, value]) => acc.split(value).join(`[secret ${name}]`), text);
}
