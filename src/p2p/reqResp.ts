import type { Stream } from '@libp2p/interface';
import * as lp from 'it-length-prefixed';
import { ReqRespError, ReqRespErrorCode } from './errors.ts';
import { ResultCode } from './messages.ts';
import { concatBytes, fromUtf8, utf8 } from '../codec/bytes.ts';
import { plain } from '../codec/canonical.ts';

/**
 * The framing of request/response streams: a request is one length-prefixed frame; a response is up to
 * `maxChunks` length-prefixed chunks, each a result byte then a payload, ended by the responder closing its
 * side. Every read has a size limit and every exchange a deadline, so a peer can neither make us buffer
 * without bound nor hold a stream open forever.
 */

/** One response chunk as the responder produces it. */
export interface ResponseChunk {
  readonly code: ResultCode;
  readonly payload: Uint8Array;
}

export function okChunk(payload: Uint8Array): ResponseChunk {
  return { code: ResultCode.Ok, payload };
}

export function errorChunk(code: Exclude<ResultCode, 0>, text: string, maxTextBytes: number): ResponseChunk {
  return { code, payload: truncateUtf8(text, maxTextBytes) };
}

/** Limits that apply to one response, checked as it arrives. */
export interface ResponseLimits {
  /** Largest payload of one chunk (the result byte is not counted). */
  readonly maxChunkBytes: number;
  readonly maxChunks: number;
  /** Largest sum of the chunk payloads. */
  readonly maxTotalBytes: number;
  readonly maxErrorTextBytes: number;
}

/** Writes `frames` length-prefixed, waiting whenever the stream asks us to (backpressure). */
export async function writeFrames(stream: Stream, frames: readonly Uint8Array[], signal: AbortSignal): Promise<void> {
  for (const frame of frames) {
    if (!stream.send(lp.encode.single(frame))) await stream.onDrain({ signal });
  }
}

/** Reads the one request frame of an inbound stream (at most `maxBytes`), failing when `signal` fires. */
export async function readRequestFrame(stream: Stream, maxBytes: number, signal: AbortSignal): Promise<Uint8Array> {
  const frames = lp.decode(stream, { maxDataLength: maxBytes })[Symbol.asyncIterator]();
  try {
    const first = await untilAborted(frames.next(), signal);
    if (first.done === true) throw new Error('the stream closed before a request arrived');
    // Plain Uint8Array, never a Node Buffer (see ARCHITECTURE: Buffer#slice is a view).
    return plain(first.value.subarray());
  } finally {
    void frames.return(undefined).catch(() => undefined);
  }
}

/**
 * Settles like `promise`, or rejects when `signal` fires. Aborting a stream does not always end a pending
 * read (a stream already closed both ways emits no further events), so every read also races the deadline.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Aborts `stream` when `signal` fires, so a pending read or write fails at once; returns the unhook. */
export function abortOnSignal(stream: Stream, signal: AbortSignal, reason: string): () => void {
  const onAbort = (): void => stream.abort(new Error(reason));
  if (signal.aborted) onAbort();
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}

/**
 * Sends `body` on an opened stream and reads the response's OK payloads. An error chunk ends the response and
 * is thrown as a ReqRespError (INVALID_REQUEST, SERVER_ERROR, REFUSED) carrying the peer's text.
 */
export async function exchange(
  stream: Stream,
  body: Uint8Array,
  limits: ResponseLimits,
  context: { protocol: string; peer: string; signal: AbortSignal },
): Promise<Uint8Array[]> {
  const fail = (code: ReqRespErrorCode, detail: string, cause?: unknown): ReqRespError =>
    new ReqRespError(code, context.protocol, context.peer, detail, cause === undefined ? undefined : { cause });
  // Start reading before sending: the first read attaches the stream's listeners, and a quick peer's answer
  // and close must not slip past before they exist (the read would then wait forever).
  // +1: the result byte in front of each payload.
  const frames = lp.decode(stream, { maxDataLength: limits.maxChunkBytes + 1 })[Symbol.asyncIterator]();
  const pull = (): ReturnType<typeof frames.next> => {
    const result = frames.next();
    result.catch(() => undefined); // awaited below, or abandoned when an earlier step fails
    return result;
  };
  let pending = pull();
  try {
    await writeFrames(stream, [body], context.signal);
    await stream.close({ signal: context.signal });
    const payloads: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const result = await untilAborted(pending, context.signal);
      if (result.done === true) return payloads;
      pending = pull();
      const chunk = plain(result.value.subarray());
      if (chunk.length === 0) throw fail(ReqRespErrorCode.Malformed, 'an empty chunk (no result byte)');
      const code = chunk[0];
      const payload = chunk.subarray(1);
      if (code !== ResultCode.Ok) {
        const text = decodeErrorText(payload, limits.maxErrorTextBytes);
        switch (code) {
          case ResultCode.InvalidRequest:
            throw fail(ReqRespErrorCode.InvalidRequest, `the peer says our request is invalid: ${text}`);
          case ResultCode.ServerError:
            throw fail(ReqRespErrorCode.ServerError, `the peer failed to answer: ${text}`);
          case ResultCode.Refused:
            throw fail(ReqRespErrorCode.Refused, `the peer refused: ${text}`);
          default:
            throw fail(ReqRespErrorCode.Malformed, `unknown result code ${code}`);
        }
      }
      if (payloads.length >= limits.maxChunks) {
        throw fail(ReqRespErrorCode.TooManyChunks, `more than the ${limits.maxChunks} chunk(s) this request allows`);
      }
      total += payload.length;
      if (total > limits.maxTotalBytes) {
        throw fail(ReqRespErrorCode.Oversize, `the response is over its limit of ${limits.maxTotalBytes} bytes`);
      }
      payloads.push(payload);
    }
  } finally {
    void frames.return(undefined).catch(() => undefined);
  }
}

/** Turns whatever a failed exchange threw into a ReqRespError that names the cause. */
export function classifyFailure(error: unknown, context: { protocol: string; peer: string; signal: AbortSignal; timeoutMs: number }): ReqRespError {
  if (error instanceof ReqRespError) return error;
  const { protocol, peer } = context;
  const name = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  if (name === 'InvalidDataLengthError') {
    return new ReqRespError(ReqRespErrorCode.Oversize, protocol, peer, 'a chunk is larger than its limit', { cause: error });
  }
  if (name === 'InvalidMessageLengthError' || name === 'InvalidDataLengthLengthError' || name === 'UnexpectedEOFError') {
    return new ReqRespError(ReqRespErrorCode.Malformed, protocol, peer, `bad chunk framing (${message})`, { cause: error });
  }
  if (context.signal.aborted) {
    return new ReqRespError(ReqRespErrorCode.Timeout, protocol, peer, `no complete answer within ${context.timeoutMs} ms`, { cause: error });
  }
  return new ReqRespError(ReqRespErrorCode.Stream, protocol, peer, `${name}: ${message}`, { cause: error });
}

/** Encodes the chunks of a response, result byte first. */
export function encodeChunks(chunks: readonly ResponseChunk[]): Uint8Array[] {
  return chunks.map((chunk) => concatBytes(Uint8Array.of(chunk.code), chunk.payload));
}

function decodeErrorText(payload: Uint8Array, maxBytes: number): string {
  const cut = payload.subarray(0, maxBytes);
  let text: string;
  try {
    text = fromUtf8(cut);
  } catch {
    text = new TextDecoder('utf-8').decode(cut);
  }
  // A peer's text reaches our logs: keep it to one printable line.
  return JSON.stringify(text.replace(/[\u0000-\u001f\u007f]/g, ' '));
}

function truncateUtf8(text: string, maxBytes: number): Uint8Array {
  const bytes = utf8(text);
  if (bytes.length <= maxBytes) return bytes;
  let end = maxBytes;
  // Do not cut a multi-byte character in half.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}
