/**
 * Processor references: `ns/name@N`. Namespace and name are lower-case `[a-z0-9]` words joined by
 * single hyphens; N is a whole number without leading zeros. References are case-sensitive and
 * always lower-case, so `LLM/LiteLLM@1` is rejected (with the lower-case form suggested) rather
 * than quietly folded: two spellings must never name two cache entries or two containers.
 */
import { ProcctlError } from '../contracts/errors.js';

export interface ProcessorRef {
  namespace: string;
  name: string;
  version: number;
  /** The canonical text form, `ns/name@N`. */
  text: string;
  /** `ns-name-vN`: directory, container and image names. */
  slug: string;
}

const WORD = '[a-z0-9]+(?:-[a-z0-9]+)*';
const REF_PATTERN = new RegExp(`^(${WORD})/(${WORD})@(0|[1-9][0-9]*)$`);
export const REF_FORM = 'ns/name@N (lower-case, N a whole number), e.g. llm/litellm@1';

export function parseRef(text: string): ProcessorRef {
  const match = REF_PATTERN.exec(text);
  if (match) {
    const [, namespace, name, version] = match as unknown as [string, string, string, string];
    return { namespace, name, version: Number(version), text, slug: `${namespace}-${name}-v${version}` };
  }
  throw new ProcctlError('ERR_REF_INVALID', `processor reference ${JSON.stringify(text)} is not valid: ${explain(text)}`, { ref: text, expected: REF_FORM });
}

function explain(text: string): string {
  const at = text.lastIndexOf('@');
  const path = at === -1 ? text : text.slice(0, at);
  const version = at === -1 ? undefined : text.slice(at + 1);
  const lowerPath = path.toLowerCase();
  const suggestion = (v: string) => `${lowerPath}@${v}`;
  if (!/^[^/]+\/[^/]+$/.test(path)) return `expected ${REF_FORM}`;
  if (version === undefined) return `the version is missing; write ${suggestion('1')} (or the version you mean)`;
  const whole = /^v?(\d+)(?:\.\d+)*$/.exec(version);
  if (path !== lowerPath && new RegExp(`^${WORD}/${WORD}$`).test(lowerPath)) return `references are lower-case; write ${suggestion(whole?.[1] ? String(Number(whole[1])) : version)}`;
  if (!new RegExp(`^${WORD}/${WORD}$`).test(path)) return `namespace and name are lower-case letters, digits and single hyphens; expected ${REF_FORM}`;
  if (whole?.[1] !== undefined) return `the version is a whole number without prefix or minor part; write ${suggestion(String(Number(whole[1])))}`;
  return `the version must be a whole number; expected ${REF_FORM}`;
}
