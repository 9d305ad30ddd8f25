import { describe, expect, it } from 'vitest';
import { encodeCanonical } from '../../../src/codec/canonical.ts';
import { DecodeError } from '../../../src/codec/errors.ts';
import {
  decodeHashRequest,
  decodeRangeRequest,
  decodeStatus,
  encodeHashRequest,
  encodeRangeRequest,
  encodeStatus,
} from '../../../src/p2p/messages.ts';
import type { ChainStatus } from '../../../src/p2p/interface.ts';

const status: ChainStatus = {
  genesisHash: new Uint8Array(32).fill(1),
  headHash: new Uint8Array(32).fill(2),
  headHeight: 1234,
  headScore: 2n ** 200n + 5n,
  finalizedHash: new Uint8Array(32).fill(3),
  finalizedHeight: 1000,
};

function decodeFails(run: () => unknown, reason: string, field: RegExp): void {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DecodeError);
    expect((error as DecodeError).reason).toBe(reason);
    expect((error as DecodeError).field).toMatch(field);
    return;
  }
  throw new Error('expected a DecodeError');
}

describe('p2p messages', () => {
  it('round-trips a status, including a score above 64 bits and a zero score', () => {
    expect(decodeStatus(encodeStatus(status), 256)).toEqual(status);
    expect(decodeStatus(encodeStatus({ ...status, headScore: 0n }), 256).headScore).toBe(0n);
    expect(encodeStatus(status).length).toBeLessThan(256);
  });

  it('refuses bad statuses, naming the field', () => {
    const wire = (fields: unknown[]): Uint8Array => encodeCanonical(fields as never);
    const good = [status.genesisHash, status.headHash, 5, Uint8Array.of(5), status.finalizedHash, 1];
    decodeFails(() => decodeStatus(wire(good.slice(0, 5)), 256), 'WRONG_ARITY', /^status$/);
    decodeFails(() => decodeStatus(wire([new Uint8Array(31), ...good.slice(1)]), 256), 'OUT_OF_RANGE', /genesisHash/);
    decodeFails(() => decodeStatus(wire([...good.slice(0, 3), Uint8Array.of(0, 5), ...good.slice(4)]), 256), 'NON_CANONICAL', /headScore/);
    decodeFails(() => decodeStatus(wire([...good.slice(0, 3), new Uint8Array(33).fill(1), ...good.slice(4)]), 256), 'OVERSIZE', /headScore/);
    decodeFails(() => decodeStatus(wire([...good.slice(0, 5), 6]), 256), 'OUT_OF_RANGE', /finalizedHeight/);
    decodeFails(() => decodeStatus(new Uint8Array(300), 256), 'OVERSIZE', /status/);
    decodeFails(() => decodeStatus(Uint8Array.of(0xc1), 256), 'MALFORMED', /status/);
  });

  it('round-trips range and hash requests and bounds the count', () => {
    expect(decodeRangeRequest(encodeRangeRequest({ start: 7, count: 64 }), 32, 64)).toEqual({ start: 7, count: 64 });
    decodeFails(() => decodeRangeRequest(encodeRangeRequest({ start: 7, count: 65 }), 32, 64), 'OUT_OF_RANGE', /count/);
    decodeFails(() => decodeRangeRequest(encodeRangeRequest({ start: 7, count: 0 }), 32, 64), 'OUT_OF_RANGE', /count/);
    const hash = new Uint8Array(32).fill(9);
    expect(decodeHashRequest(encodeHashRequest(hash), 64)).toEqual(hash);
    decodeFails(() => decodeHashRequest(encodeHashRequest(new Uint8Array(31)), 64), 'OUT_OF_RANGE', /hash/);
  });
});
