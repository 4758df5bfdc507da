/**
 * `ws` closes a connection itself when a frame breaks WebSocket rules it enforces (too big, text
 * that is not UTF-8, bad framing), with the code but no reason. The protocol promises a reason
 * with every close, so this fills one in for those codes.
 */
import type { WebSocket } from 'ws';
import { CLOSE, MAX_FRAME_BYTES } from './constants.js';

const REASONS: Record<number, string> = {
  1002: 'invalid WebSocket framing',
  [CLOSE.INVALID_UTF8]: 'text frame is not valid UTF-8',
  [CLOSE.TOO_BIG]: `frame larger than ${MAX_FRAME_BYTES} bytes`,
};

export function withCloseReasons(ws: WebSocket): void {
  const close = ws.close.bind(ws);
  ws.close = (code?: number, reason?: string | Buffer) => close(code, reason ?? (code === undefined ? undefined : REASONS[code]));
}
