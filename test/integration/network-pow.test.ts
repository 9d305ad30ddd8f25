/**
 * Three PoW miners as real processes on 127.0.0.1: they converge; a partition builds two branches; after
 * healing the heavier branch wins everywhere, and a grant made only on the losing branch is gone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmrClient } from '../../src/client/emrClient.ts';
import { MedchainRpc } from '../../src/client/rpcClient.ts';
import { toHex, utf8 } from '../../src/codec/bytes.ts';
import { signTransaction } from '../../src/codec/transaction.ts';
import { keyPairFromSeed, type KeyPair } from '../../src/crypto/ed25519.ts';
import { sha256 } from '../../src/crypto/hash.ts';
import { secureRandom } from '../../src/envelope/random.ts';
import { TxType } from '../../src/types/transaction.ts';
import { rpc, rpcResult, waitFor } from '../helpers/process.ts';
import { POW_TARGET_MS, agreeAt, createTestNetwork, headOf, heal, partition, type NetNode, type TestNetwork } from '../helpers/network.ts';

const key = (name: string): KeyPair => keyPairFromSeed(sha256(utf8(`network-pow/${name}`)));

let net: TestNetwork;
let nodes: NetNode[];

describe('proof of work across 3 miners', () => {
  beforeAll(async () => {
    net = await createTestNetwork({ validators: 3, engine: 'pow' });
    nodes = net.nodes;
    await Promise.all(nodes.map((n) => net.start(n)));
  }, 60_000);

  afterAll(async () => {
    await net?.close();
  });

  it('converges on one chain, and the retarget brings block times to the target', async () => {
    await waitFor('height 40 everywhere', async () => ((await Promise.all(nodes.map(headOf))).every((h) => h.height >= 40) ? true : undefined), 120_000, 250);
    const target = Math.min(...(await Promise.all(nodes.map(async (n) => (await headOf(n)).height)))) - 2;
    await agreeAt(nodes, target);
    const times: number[] = [];
    for (let h = target - 15; h <= target; h++) times.push((await rpcResult<{ header: { time: number } }>(nodes[0]!.rpcUrl, 'chain_getBlock', [h])).header.time);
    const meanMs = (times[times.length - 1]! - times[0]!) / (times.length - 1);
    console.log(`[measure] PoW mean block interval over blocks ${target - 15}-${target}: ${meanMs.toFixed(0)} ms (target ${POW_TARGET_MS} ms)`);
    expect(meanMs).toBeGreaterThan(POW_TARGET_MS * 0.4);
    expect(meanMs).toBeLessThan(POW_TARGET_MS * 2.5);
  }, 150_000);

  it('resolves a partition to the heavier branch; a grant made only on the losing branch is gone', async () => {
    const [a, b, c] = nodes as [NetNode, NetNode, NetNode];
    const transport = new MedchainRpc({ url: b.rpcUrl });
    const { chainId } = await transport.nodeInfo();
    const client = (k: KeyPair) => new EmrClient(transport, k, { chainId, random: secureRandom, pollMs: 100 });
    const patient = client(key('patient'));
    const doctor = key('doctor');
    await Promise.all([patient.register('patient'), client(doctor).register('doctor'), client(key('other-doctor')).register('doctor')]);
    const hospital = client((await import('../../src/keys/keystore.ts').then((m) => m.loadKey(b.datadir, 'validator'))).keyPair);
    await hospital.attest(doctor.publicKey, 'Dr Pow', 'L-POW', Date.now() + 86_400_000);
    const recordId = await patient.createRecord(utf8('{"resourceType":"Bundle","type":"collection","entry":[]}'), 'application/fhir+json');
    // Everyone has the record before the cut.
    const base = (await headOf(b)).height;
    await waitFor('the record everywhere', async () => ((await Promise.all(nodes.map(headOf))).every((h) => h.height >= base) ? true : undefined), 30_000, 200);
    await agreeAt(nodes, base);

    await partition([a], [b, c]);
    const nonce = (await rpcResult<{ nonce: number }>(b.rpcUrl, 'identity_get', [toHex(key('patient').publicKey)])).nonce;
    const grant = (grantee: Uint8Array) =>
      signTransaction(
        { chainId, sender: key('patient').publicKey, nonce, body: { type: TxType.GrantAccess, record: Buffer.from(recordId, 'hex'), grantee, scope: ['read'], expiresAt: null } },
        key('patient').secretKey,
      );
    // The same nonce on each side: only one of the two grants can ever exist.
    const losing = grant(doctor.publicKey);
    const winning = grant(key('other-doctor').publicKey);
    const submittedA = await rpc(a.rpcUrl, "tx_submit", [toHex(losing.bytes)]);
    expect(submittedA.error, JSON.stringify(submittedA.error)).toBeUndefined();
    const submittedB = await rpc(b.rpcUrl, 'tx_submit', [toHex(winning.bytes)]);
    expect(submittedB.error, JSON.stringify(submittedB.error)).toBeUndefined();
    await waitFor('the grant mined on the lone miner', async () => ((await rpcResult<{ status: string }>(a.rpcUrl, 'tx_get', [toHex(losing.id)])).status === 'included' ? true : undefined), 30_000, 200);
    const check = (n: NetNode) => rpcResult<{ decision: string }>(n.rpcUrl, 'access_check', [recordId, toHex(doctor.publicKey), 'read', 'TREAT']);
    expect((await check(a)).decision).toBe('allow');
    // The lone miner pauses: the two others build clearly more work meanwhile.
    a.proc!.child.kill('SIGSTOP');
    const bStart = (await headOf(b)).height;
    await waitFor('the majority branch grows', async () => ((await headOf(b)).height >= bStart + 5 ? true : undefined), 60_000, 250);
    a.proc!.child.kill('SIGCONT');
    await heal([a], [b, c]);

    const target = (await headOf(b)).height;
    await waitFor('the lone miner reorganises', async () => ((await headOf(a)).height >= target ? true : undefined), 40_000, 200);
    await agreeAt(nodes, target);
    for (const n of nodes) {
      expect((await check(n)).decision, n.name).toBe('deny');
      expect((await rpcResult<{ status: string }>(n.rpcUrl, 'tx_get', [toHex(losing.id)])).status, n.name).toBe('unknown');
      expect((await rpcResult<{ status: string }>(n.rpcUrl, 'tx_get', [toHex(winning.id)])).status, n.name).toBe('included');
    }
    const metrics = await (await fetch(a.rpcUrl.replace('/rpc', '/metrics'))).text();
    expect(metrics).toMatch(/^medchain_reorgs_total [1-9]/m);
  }, 180_000);
});
