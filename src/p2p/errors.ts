/** Why a request to a peer failed. Stable codes: callers branch on them and logs print them. */
export const ReqRespErrorCode = {
  /** The request (dial, send, every chunk of the answer) did not finish within its deadline. */
  Timeout: 'TIMEOUT',
  /** A chunk, or the whole answer, was larger than its limit. The peer's fault. */
  Oversize: 'OVERSIZE',
  /** The answer could not be decoded (bad framing, bad result code, not our encoding). The peer's fault. */
  Malformed: 'MALFORMED',
  /** More chunks than the request allows. The peer's fault. */
  TooManyChunks: 'TOO_MANY_CHUNKS',
  /** The peer says our request was invalid. */
  InvalidRequest: 'INVALID_REQUEST',
  /** The peer failed to answer (its own error). */
  ServerError: 'SERVER_ERROR',
  /** The peer refused (a blob request its policy does not allow, a resource it does not have). */
  Refused: 'REFUSED',
  /** The stream could not be opened or broke (peer gone, protocol not supported, connection refused). */
  Stream: 'STREAM_ERROR',
  /** We cancelled the request (the caller's signal, or the network stopping). */
  Aborted: 'ABORTED',
  /** This node's network is not started, or the peer is banned or removed here. */
  NotAvailable: 'NOT_AVAILABLE',
} as const;
export type ReqRespErrorCode = (typeof ReqRespErrorCode)[keyof typeof ReqRespErrorCode];

/** Codes that prove the peer misbehaved, as opposed to a slow or lost connection. */
export const PEER_FAULT_CODES: ReadonlySet<ReqRespErrorCode> = new Set([
  ReqRespErrorCode.Oversize,
  ReqRespErrorCode.Malformed,
  ReqRespErrorCode.TooManyChunks,
]);

/** A failed request/response exchange, naming the protocol, the peer and what went wrong. */
export class ReqRespError extends Error {
  readonly code: ReqRespErrorCode;
  readonly protocol: string;
  readonly peer: string;
  constructor(code: ReqRespErrorCode, protocol: string, peer: string, detail: string, options?: ErrorOptions) {
    super(`${protocol} with ${peer}: ${code}: ${detail}`, options);
    this.name = 'ReqRespError';
    this.code = code;
    this.protocol = protocol;
    this.peer = peer;
  }
}
