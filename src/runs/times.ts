/** Times on the command line: an age (`90s`, `15m`, `2h`, `7d`, `2w`) counted back from now, or an ISO date. */
import { ProcctlError } from '../contracts/errors.js';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export function parseAge(flag: string, value: string): number {
  const match = /^(\d+(?:\.\d+)?)([smhdw])$/.exec(value.trim());
  if (!match) throw new ProcctlError('ERR_USAGE', `${flag} ${JSON.stringify(value)} is not an age such as 90s, 15m, 2h, 7d or 2w`, { flag, value });
  return Number(match[1]) * (UNIT_MS[match[2] as string] as number);
}

/** An ISO date, or an age meaning "that long ago". */
export function parseTime(flag: string, value: string, now = Date.now()): Date {
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const time = Date.parse(value);
    if (Number.isNaN(time)) throw new ProcctlError('ERR_USAGE', `${flag} ${JSON.stringify(value)} is not a valid date`, { flag, value });
    return new Date(time);
  }
  return new Date(now - parseAge(flag, value));
}
