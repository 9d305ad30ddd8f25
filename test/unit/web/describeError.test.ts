// Every refusal the node can send reaches people in plain English (src/web/lib/describeError.ts).

import { describe, expect, it } from 'vitest';
import { RpcClientError, RpcTransportError, TransactionWaitError } from '../../../src/client/rpcClient.ts';
import { EnvelopeError, EnvelopeErrorCode } from '../../../src/envelope/errors.ts';
import { RpcErrors } from '../../../src/rpc/errors.ts';
import { DECODE_KINDS, REJECT_KINDS } from '../../../src/rpc/methods/rejections.ts';
import { NO_SUCH_RECORD } from '../../../src/rpc/methods/recordMethods.ts';
import { P2P_DISABLED, PEER_DIAL_FAILED } from '../../../src/rpc/methods/netMethods.ts';
import { SUBSCRIPTIONS_NEED_WEBSOCKET, TOO_MANY_SUBSCRIPTIONS } from '../../../src/rpc/subscriptions.ts';
import { KeystoreError, KeystoreErrorCode } from '../../../src/web/keystore.ts';
import { NODE_REASONS, describeError } from '../../../src/web/lib/describeError.ts';

const nodeReasons = [
  ...DECODE_KINDS.keys(),
  ...REJECT_KINDS.keys(),
  ...Object.values(RpcErrors).map((k) => k.reason),
  ...[NO_SUCH_RECORD, P2P_DISABLED, PEER_DIAL_FAILED, SUBSCRIPTIONS_NEED_WEBSOCKET, TOO_MANY_SUBSCRIPTIONS].map((k) => k.reason),
];

describe('describeError', () => {
  it.each([...new Set(nodeReasons)])('%s has a plain-English title and advice', (reason) => {
    const entry = NODE_REASONS[reason];
    expect(entry, `add ${reason} to NODE_REASONS in src/web/lib/describeError.ts`).toBeDefined();
    const described = describeError(new RpcClientError('tx_submit', { code: -32011, message: 'The request was refused', data: { reason } }, 200));
    expect(described.code).toBe(reason);
    expect(described.title).toMatch(/^[A-Z"'].*[.?]$/);
    expect(described.detail.length).toBeGreaterThan(5);
    expect(described.title + described.detail).not.toMatch(/_[A-Z]|undefined|\bnull\b/);
  });

  it('an unknown reason still shows the node message, shortened, as text', () => {
    const d = describeError(new RpcClientError('x', { code: -32099, message: '<b>odd</b> ' + 'x'.repeat(500), data: { reason: 'NEW_THING' } }, 200));
    expect(d).toMatchObject({ title: 'The node refused the request.', code: 'NEW_THING' });
    expect(d.detail.length).toBeLessThanOrEqual(301);
  });

  it('transport failures, waits, keystore and envelope errors', () => {
    expect(describeError(new RpcTransportError('NETWORK', 'node_info', 'fetch failed'))).toMatchObject({ title: 'Cannot reach the node.', retry: true });
    expect(describeError(new RpcTransportError('TIMEOUT', 'node_info', 'slow')).code).toBe('TIMEOUT');
    expect(describeError(new TransactionWaitError('TIMEOUT', 'ab', 'pending', 'x')).title).toBe('Not confirmed yet.');
    expect(describeError(new TransactionWaitError('DROPPED', 'ab', 'unknown', 'x')).code).toBe('DROPPED');
    for (const code of Object.values(KeystoreErrorCode)) expect(describeError(new KeystoreError(code, 'why')).title).not.toBe('The identity could not be used.');
    for (const code of Object.values(EnvelopeErrorCode)) expect(describeError(new EnvelopeError(code, 'why')).code).toBe(`ENVELOPE_${code}`);
    expect(describeError(new Error('boom'))).toMatchObject({ title: 'Something went wrong.', detail: 'boom' });
    expect(describeError(42).detail).toBe('No details.');
  });
});
