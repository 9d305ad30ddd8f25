import { describe, expect, it } from 'vitest';
import { toHex } from '../../../src/codec/bytes.ts';
import { TxType } from '../../../src/types/transaction.ts';
import { inProcessNode } from '../../helpers/inProcessNode.ts';
import { testKey, testTx } from '../../helpers/fixtures.ts';

describe('doctor directory and validator statistics', () => {
  it('finds attested doctors by name or key prefix, lists a hospital\'s doctors with their current state', async () => {
    const node = await inProcessNode();
    const hospital = testKey('hospital');
    const [ada, bob] = [testKey('dr-ada'), testKey('dr-bob')];
    await node.submit(testTx(ada, 0, { type: TxType.RegisterIdentity, role: 'doctor' }));
    await node.submit(testTx(bob, 0, { type: TxType.RegisterIdentity, role: 'doctor' }));
    await node.produce();
    const until = node.now.t + 86_400_000;
    await node.submit(testTx(hospital, 0, { type: TxType.AttestDoctor, doctor: ada.publicKey, name: 'Ada Lovelace', licence: 'L-1', expiresAt: until }));
    await node.submit(testTx(hospital, 1, { type: TxType.AttestDoctor, doctor: bob.publicKey, name: 'Bob <b>Markup</b>', licence: 'L-2', expiresAt: until }));
    await node.produce();
    await node.submit(testTx(hospital, 2, { type: TxType.RevokeAttestation, doctor: bob.publicKey, reason: 'moved' }));
    await node.produce();

    const byName = await node.call('identity_findDoctors', ['lovelace']);
    expect(byName.result).toEqual([expect.objectContaining({ id: toHex(ada.publicKey), name: 'Ada Lovelace', hospital: toHex(hospital.publicKey), valid: true, revokedAt: null })]);
    const byKey = await node.call('identity_findDoctors', [toHex(bob.publicKey).slice(0, 8)]);
    expect(byKey.result).toEqual([expect.objectContaining({ name: 'Bob <b>Markup</b>', valid: false, revokedAt: 3 })]);
    // Valid attestations first; a short hex query does not match keys (too broad), names still match.
    const all = await node.call('identity_findDoctors', ['b', 10]);
    expect(all.result.map((d: { name: string }) => d.name)).toEqual(['Bob <b>Markup</b>']);
    expect((await node.call('identity_findDoctors', ['nobody'])).result).toEqual([]);
    expect((await node.call('identity_findDoctors', [''])).error?.code).toBe(-32602);

    const listed = await node.call('identity_attestedBy', [toHex(hospital.publicKey)]);
    expect(listed.result.map((d: { name: string; valid: boolean }) => [d.name, d.valid]).sort()).toEqual([
      ['Ada Lovelace', true],
      ['Bob <b>Markup</b>', false],
    ]);
    expect((await node.call('identity_attestedBy', [toHex(ada.publicKey)])).result).toEqual([]);
  });

  it('counts blocks proposed and slots missed in the window', async () => {
    const node = await inProcessNode();
    for (let i = 0; i < 3; i++) await node.produce();
    // Skip ten slots: the only validator was drawn for them and made no block.
    node.now.t += 10_000;
    await node.produce();
    const answer = await node.call('chain_getValidators');
    expect(answer.result.validators).toEqual([expect.objectContaining({ id: toHex(testKey('hospital').publicKey), proposed: 4 })]);
    const { fromSlot, toSlot } = answer.result.window;
    expect(answer.result.validators[0].missed).toBe(toSlot - fromSlot + 1 - 4);
    // Counted from the first block on: the slots of the ten-second gap, not those before the chain began.
    const first = await node.call('chain_getBlock', [1]);
    expect(fromSlot).toBe((first.result.header.time - (await node.call('chain_getBlock', [0])).result.header.time) / 1000);
    expect(answer.result.validators[0].missed).toBeGreaterThanOrEqual(9);
    expect(answer.result.validators[0].missed).toBeLessThanOrEqual(10);
  });
});
