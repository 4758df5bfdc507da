/**
 * Protocol-level failures that, behind a placement, may really be its container, pod or sandbox
 * dying underneath the connection: the placement's adapter looks at it before answering.
 */
export const CONNECTION_LOST: ReadonlySet<string> = new Set(['ERR_RUNTIME_UNAVAILABLE', 'ERR_PROTOCOL', 'ERR_INTERNAL']);
