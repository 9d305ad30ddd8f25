// Review findings on key handling: an unlock in progress across a lock, a seed pasted into the explorer search.
import { describe, expect, it } from 'vitest';
import { toHex } from '../../../src/codec/bytes.ts';
import { keyPairFromSeed } from '../../../src/crypto/ed25519.ts';
import { secureRandom } from '../../../src/envelope/random.ts';
import { unlockIdentity } from '../../../src/web/lib/identityActions.ts';
import { resolveSearch } from '../../../src/web/lib/search.ts';
import type { Services } from '../../../src/web/lib/services.ts';
import { sealIdentity } from '../../../src/web/keystore.ts';
import { KeySession } from '../../../src/web/session.ts';
import type { MedchainRpc } from '../../../src/client/rpcClient.ts';

const SEED = new Uint8Array(32).fill(42);
const clock = { now: () => Date.now(), setTimer: () => 0, clearTimer: () => undefined };

describe('unlocking across a lock', () => {
  it('lets the lock win: the key never enters the session', async () => {
    const file = await sealIdentity(SEED, { label: 'Pat', role: 'patient', passphrase: 'correct horse', random: secureRandom, now: Date.now(), kdf: { N: 2 ** 14, r: 8, p: 1 } });
    const session = new KeySession({ clock });
    const services = { session, changes: new EventTarget() } as unknown as Services;
    const unlocking = unlockIdentity(services, file, 'correct horse');
    session.lock(); // the user presses Lock (or the page goes away) while scrypt runs
    await expect(unlocking).rejects.toThrow(/locked while it was being unlocked/);
    expect(session.unlocked).toEqual([]);
    // Without a lock in between it unlocks as usual.
    await unlockIdentity(services, file, 'correct horse');
    expect(session.unlocked).toEqual([file.publicKey]);
  });
});

describe('explorer search', () => {
  it('refuses a pasted seed of one of this browser\'s identities before asking the node anything', async () => {
    const calls: string[] = [];
    const rpc = new Proxy({}, { get: (_t, name) => () => { calls.push(String(name)); throw new Error('no network in this test'); } }) as unknown as MedchainRpc;
    const own = toHex(keyPairFromSeed(SEED).publicKey);
    const outcome = await resolveSearch(rpc, toHex(SEED), [{ id: own, seen: 'your identity' }]);
    expect(outcome).toMatchObject({ nothing: expect.stringContaining('secret seed') });
    expect(calls).toEqual([]);
  });
});
