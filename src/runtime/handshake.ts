/**
 * Who may open `/run`: the bearer token minted when the runtime started, and a client that speaks
 * `procctl.run.v1`. Both are checked on the HTTP upgrade request, so a refused client never gets a
 * WebSocket, let alone a frame. Refusals carry a JSON body `{"error":{"code","message"}}`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { ErrorCode } from '../contracts/errors.js';
import { RUN_PATH, SUBPROTOCOL } from '../protocol/constants.js';

export interface Refusal {
  status: number;
  code: ErrorCode;
  message: string;
  headers?: Record<string, string>;
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Compares tokens in constant time (by their digests, which have equal lengths). */
export function tokenChecker(token: string): (presented: string | undefined) => boolean {
  const expected = digest(token);
  return (presented) => presented !== undefined && timingSafeEqual(digest(presented), expected);
}

export function offeredSubprotocols(req: IncomingMessage): string[] {
  const header = req.headers['sec-websocket-protocol'];
  return header === undefined ? [] : header.split(',').map((p) => p.trim()).filter(Boolean);
}

export function checkUpgrade(req: IncomingMessage, tokenMatches: (presented: string | undefined) => boolean): Refusal | undefined {
  const path = (req.url ?? '').split('?')[0];
  if (path !== RUN_PATH) return { status: 404, code: 'ERR_PROTOCOL', message: `no WebSocket endpoint at ${path}; connect to ${RUN_PATH}` };
  const authorization = req.headers.authorization;
  const bearer = authorization?.startsWith('Bearer ') ? authorization.slice('Bearer '.length).trim() : undefined;
  if (!tokenMatches(bearer)) {
    return {
      status: 401,
      code: 'ERR_RUNTIME_AUTH',
      message: authorization === undefined ? 'no Authorization header; send "Authorization: Bearer <token>" with the token the runtime was started with' : 'the bearer token is not the one this runtime was started with',
      headers: { 'WWW-Authenticate': 'Bearer realm="procctl-runtime"' },
    };
  }
  const offered = offeredSubprotocols(req);
  if (!offered.includes(SUBPROTOCOL)) {
    return { status: 400, code: 'ERR_PROTOCOL', message: offered.length === 0 ? `no Sec-WebSocket-Protocol offered; this runtime speaks ${SUBPROTOCOL}` : `subprotocol ${offered.join(', ')} is not spoken here; this runtime speaks ${SUBPROTOCOL}` };
  }
  return undefined;
}

export function refusalBody(refusal: Refusal): string {
  return JSON.stringify({ error: { code: refusal.code, message: refusal.message } });
}
