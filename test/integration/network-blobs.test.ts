/**
 * Off-chain ciphertexts between two hospitals' nodes (real processes, real libp2p): a record uploaded to one
 * hospital is read by a granted doctor through the other; erasure deletes it from both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmrClient } from '../../src/client/emrClient.ts';
import { MedchainRpc, RpcClientError } from '../../src/client/rpcClient.ts';
import { utf8 } from '../../src/codec/bytes.ts';
import { keyPairFromSeed, type KeyPair } from '../../src/crypto/ed25519.ts';
import { sha256 } from '../../src/crypto/hash.ts';
import { secureRandom } from '../../src/envelope/random.ts';
import { loadKey } from '../../src/keys/keystore.ts';
import { openChainStore } from '../../src/node/openChain.ts';
import { createTestNetwork, headOf, type NetNode, type TestNetwork } from '../helpers/network.ts';
import { waitFor } from '../helpers/process.ts';

const key = (name: string): KeyPair => keyPairFromSeed(sha256(utf8(`network-blobs/${name}`)));
const plaintext = utf8(JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Observation', status: 'final', code: { text: 'HbA1c' } } }] }));

let net: TestNetwork;
let uploadNode: NetNode;
let readNode: NetNode;

async function clientOn(node: NetNode, k: KeyPair): Promise<EmrClient> {
  const transport = new MedchainRpc({ url: node.rpcUrl });
  const { chainId } = await transport.nodeInfo();
  return new EmrClient(transport, k, { chainId, random: secureRandom, pollMs: 100 });
}

async function blobCount(node: NetNode, recordId: string): Promise<number> {
  await net.stop(node);
  const store = await openChainStore(node.datadir);
  let count = 0;
  try {
    for await (const _ of store.readBlobs(Buffer.from(recordId, 'hex'))) count++;
  } finally {
    await store.stop();
  }
  await net.start(node);
  return count;
}

describe('blob replication between hospitals', () => {
  beforeAll(async () => {
    net = await createTestNetwork({ validators: 2, engine: 'pos' });
    await Promise.all(net.nodes.map((n) => net.start(n)));
    [uploadNode, readNode] = net.nodes as [NetNode, NetNode];
    await waitFor('height 2', async () => ((await headOf(readNode)).height >= 2 ? true : undefined), 30_000, 200);
  }, 60_000);

  afterAll(async () => {
    await net?.close();
  });

  it('a doctor reads through hospital B a record uploaded only to hospital A; erasure removes it from both', async () => {
    const patient = await clientOn(uploadNode, key('patient'));
    const doctorAtA = await clientOn(uploadNode, key('doctor'));
    const hospitalA = await clientOn(uploadNode, (await loadKey(uploadNode.datadir, 'validator')).keyPair);
    await Promise.all([patient.register('patient'), doctorAtA.register('doctor')]);
    await hospitalA.attest(key('doctor').publicKey, 'Dr Blob', 'L-BLOB', Date.now() + 86_400_000);
    const recordId = await patient.createRecord(plaintext, 'application/fhir+json');
    await patient.grant(recordId, key('doctor').publicKey, ['read'], null);

    // Hospital B never received an upload; the doctor asks it anyway.
    const doctorAtB = await clientOn(readNode, key('doctor'));
    const read = await doctorAtB.read(recordId, 0, 'TREAT');
    expect(read.plaintext).toEqual(plaintext);
    expect(await blobCount(readNode, recordId)).toBeGreaterThanOrEqual(2);

    // An ungranted doctor gets nothing through B either.
    const stranger = await clientOn(readNode, key('stranger'));
    await stranger.register('doctor');
    await expect(stranger.read(recordId, 0, 'TREAT')).rejects.toBeInstanceOf(RpcClientError);

    await patient.erase(recordId);
    await waitFor('the erasure on B', async () => {
      try {
        await doctorAtB.read(recordId, 0, 'TREAT');
        return undefined;
      } catch (error) {
        return error instanceof RpcClientError && error.reason === 'RECORD_ERASED' ? true : undefined;
      }
    }, 30_000, 300);
    expect(await blobCount(readNode, recordId)).toBe(0);
    expect(await blobCount(uploadNode, recordId)).toBe(0);
  }, 120_000);
});
