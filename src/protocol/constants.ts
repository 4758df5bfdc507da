/**
 * The fixed numbers of `procctl.run.v1`: names, limits and close codes. docs/protocol.md is the
 * prose version of this file; a change here is a change to the protocol.
 */
export const SUBPROTOCOL = 'procctl.run.v1';
export const RUN_PATH = '/run';
export const HEALTH_PATH = '/healthz';

const MiB = 1024 * 1024;

/** Largest frame either side accepts (the invoke frame carries inputs of up to 8 MiB). */
export const MAX_FRAME_BYTES = 16 * MiB;
/** Largest binary frame: attachment and output bytes travel in chunks of at most this. */
export const MAX_CHUNK_BYTES = 1 * MiB;
/** Longest `log`/`progress` message and `token` text per frame, in UTF-16 code units. */
export const MAX_EVENT_TEXT = 16 * 1024;
/** Most attachments one invoke may declare. */
export const MAX_ATTACHMENTS = 1024;
/**
 * Registry entries a connection remembers for invokes that name them by entry_cid alone: the last
 * this many distinct ones it carried in full, in the order first carried. Both sides count alike.
 */
export const REMEMBERED_ENTRIES = 64;

/** Close codes: the standard ones the protocol uses, and its own in the private range. */
export const CLOSE = {
  /** The client is done with the connection. */
  NORMAL: 1000,
  /** The runtime is shutting down. */
  GOING_AWAY: 1001,
  /** A text frame that is not UTF-8 (sent by the WebSocket layer). */
  INVALID_UTF8: 1007,
  /** A frame larger than MAX_FRAME_BYTES, a chunk larger than MAX_CHUNK_BYTES, attachments over the runtime's limit. */
  TOO_BIG: 1009,
  /** The runtime failed in a way that is not the run's fault. */
  INTERNAL: 1011,
  /** A text frame that is not a JSON object. */
  NOT_JSON: 4000,
  /** A frame whose `kind` this side does not know. */
  UNKNOWN_KIND: 4001,
  /** A frame the state does not allow: `invoke` during a run, text while attachment bytes are due. */
  OUT_OF_ORDER: 4002,
  /** A binary frame where a text frame is due. */
  UNEXPECTED_BINARY: 4003,
  /** A frame of a known kind with missing or wrongly typed fields. */
  INVALID_FRAME: 4004,
} as const;

export type CloseCode = (typeof CLOSE)[keyof typeof CLOSE];

/** Codes meaning the peer broke the protocol (as opposed to going away or failing). */
export const PROTOCOL_CLOSE_CODES: ReadonlySet<number> = new Set([CLOSE.INVALID_UTF8, CLOSE.TOO_BIG, CLOSE.NOT_JSON, CLOSE.UNKNOWN_KIND, CLOSE.OUT_OF_ORDER, CLOSE.UNEXPECTED_BINARY, CLOSE.INVALID_FRAME]);
