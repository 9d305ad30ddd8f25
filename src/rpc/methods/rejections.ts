import { defineRpcError, RpcError, type RpcErrorKind } from '../errors.ts';
import { DecodeError, DecodeReason } from '../../codec/errors.ts';
import { MempoolError, MempoolRejection } from '../../chain/mempool.ts';
import { EmrError, EmrErrorCode } from '../../emr/recordService.ts';
import { TxErrorCode } from '../../state/errors.ts';

/** -32010: bytes that are not a well-formed transaction or request; `data.reason` is the decoder's reason. */
export const DECODE_KINDS = kindsFor(-32010, Object.values(DecodeReason), 'The request could not be decoded');
/** -32011: a well-formed request this node refuses; `data.reason` says why (one reason, one code, everywhere). */
export const REJECT_KINDS = kindsFor(
  -32011,
  [...new Set<string>([...Object.values(TxErrorCode), ...Object.values(MempoolRejection), ...Object.values(EmrErrorCode)])],
  'The request was refused',
);

function kindsFor(code: number, reasons: readonly string[], message: string): Map<string, RpcErrorKind> {
  return new Map(reasons.map((reason) => [reason, defineRpcError(code, reason, message)]));
}

/** Turns the refusals of the chain, mempool and record service into RPC errors; anything else passes through. */
export function asRpcError(error: unknown, context: Readonly<Record<string, unknown>> = {}): unknown {
  if (error instanceof DecodeError) return new RpcError(DECODE_KINDS.get(error.reason)!, error.message, { ...context, field: error.field });
  if (error instanceof MempoolError || error instanceof EmrError) {
    const kind = REJECT_KINDS.get(error.code) ?? DECODE_KINDS.get(error.code);
    if (kind !== undefined) return new RpcError(kind, error.message, { ...context, ...(error instanceof EmrError ? error.detail : {}) });
  }
  return error;
}
