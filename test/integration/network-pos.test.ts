/**
 * Four PoS validators as real processes on 127.0.0.1: convergence, transaction gossip, finality, a SIGKILLed
 * and a SIGSTOPped validator, a 2-2 partition, a double-signing validator, and a late follower.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/codec/bytes.ts';
import { signTransaction } from '../../src/codec/transaction.ts';
import { loadKey } from '../../src/keys/keystore.ts';
import { keyPairFromSeed } from '../../src/crypto/ed25519.ts';
import { TxType } from '../../src/types/transaction.ts';
import { rpc, rpcResult, sleep, waitFor } from '../helpers/process.ts';
import { agreeAt, blockHashAt, createTestNetwork, headOf, heal, partition, type NetNode, type TestNetwork } from '../helpers/network.ts';

let net: TestNetwork;
let nodes: NetNode[];

const finalizedOf = async (n: NetNode): Promise<number> => (await headOf(n)).finalizedHeight;
const heights = async (list: readonly NetNode[]): Promise<number[]> => Promise.all(list.map(async (n) => (await headOf(n)).height));

async function finalityAdvances(list: readonly NetNode[], by: number, timeoutMs = 30_000): Promise<void> {
  const start = await Promise.all(list.map(finalizedOf));
  await waitFor(
    `finality to advance by ${by}`,
    async () => ((await Promise.all(list.map(finalizedOf))).every((f, i) => f >= start[i]! + by) ? true : undefined),
    timeoutMs,
    250,
  );
}

describe('proof of stake across 4 validators', () => {
  beforeAll(async () => {
    net = await createTestNetwork({ validators: 4, engine: 'pos' });
    nodes = net.nodes;
    await Promise.all(nodes.map((n) => net.start(n)));
  }, 60_000);

  afterAll(async () => {
    await net?.close();
  });

  it('converges on identical heads and state roots, and finality advances', async () => {
    await waitFor('height 4 everywhere', async () => ((await heights(nodes)).every((h) => h >= 4) ? true : undefined), 40_000, 250);
    await finalityAdvances(nodes, 2, 40_000);
    const target = Math.min(...(await heights(nodes))) - 1;
    await agreeAt(nodes, target);
    const roots = await Promise.all(nodes.map(async (n) => (await rpcResult<{ header: { stateRoot: string } }>(n.rpcUrl, 'chain_getBlock', [target])).header.stateRoot));
    expect(roots[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(roots).size).toBe(1);
  }, 90_000);

  it('includes a transaction sent to any node on every node', async () => {
    const patient = keyPairFromSeed(new Uint8Array(32).fill(41));
    const tx = signTransaction({ chainId: 'medchain-net', sender: patient.publicKey, nonce: 0, body: { type: TxType.RegisterIdentity, role: 'patient' } }, patient.secretKey);
    const sent = Date.now();
    const submitted = await rpc(nodes[2]!.rpcUrl, 'tx_submit', [toHex(tx.bytes)]);
    expect(submitted.error).toBeUndefined();
    const seen = await Promise.all(
      nodes.map((n) =>
        waitFor(`the transaction on ${n.name}`, async () => {
          const answer = await rpcResult<{ status: string }>(n.rpcUrl, 'tx_get', [toHex(tx.id)]);
          return answer.status === 'unknown' ? undefined : Date.now() - sent;
        }, 20_000, 20),
      ),
    );
    console.log(`[measure] transaction reached all 4 nodes in ${Math.max(...seen)} ms (per node: ${seen.join(', ')} ms)`);
    await Promise.all(
      nodes.map((n) =>
        waitFor(`inclusion on ${n.name}`, async () => ((await rpcResult<{ status: string }>(n.rpcUrl, 'tx_get', [toHex(tx.id)])).status === 'included' ? true : undefined), 20_000, 100),
      ),
    );
  }, 60_000);

  it('keeps finalizing with one validator killed (SIGKILL), which then restarts and catches up', async () => {
    const victim = nodes[3]!;
    const others = nodes.slice(0, 3);
    await net.kill(victim);
    await finalityAdvances(others, 3, 40_000);
    await net.start(victim);
    const target = Math.max(...(await heights(others)));
    await waitFor('the restarted validator catches up', async () => ((await headOf(victim)).height >= target ? true : undefined), 40_000, 250);
    await agreeAt(nodes, target);
  }, 120_000);

  it('a validator paused for 10 s (SIGSTOP) catches up after SIGCONT', async () => {
    const paused = nodes[1]!;
    paused.proc!.child.kill('SIGSTOP');
    await sleep(10_000);
    const others = [nodes[0]!, nodes[2]!, nodes[3]!];
    const target = Math.max(...(await heights(others)));
    paused.proc!.child.kill('SIGCONT');
    await waitFor('the paused validator catches up', async () => ((await headOf(paused)).height >= target ? true : undefined), 40_000, 250);
    await agreeAt(nodes, target);
  }, 90_000);

  it('a 2-2 partition stops finality without forking finalized blocks; healing resumes it and heads agree', async () => {
    const left = nodes.slice(0, 2);
    const right = nodes.slice(2);
    const cutHead = Math.max(...(await heights(nodes)));
    await partition(left, right);
    // Votes cast before the cut can still justify blocks up to the heads of that moment, never beyond: with
    // half the stake on each side, no later block gathers more than 2/3.
    await sleep(12_000);
    const frozen = await Promise.all(nodes.map(finalizedOf));
    for (const f of frozen) expect(f).toBeLessThanOrEqual(cutHead);
    // Both halves kept producing in their own slots, well past the cut: finality would have moved without it.
    expect(Math.max(...(await heights(left)))).toBeGreaterThan(cutHead + 2);
    expect(Math.max(...(await heights(right)))).toBeGreaterThan(cutHead + 2);
    const finalizedHeight = Math.min(...frozen);
    const finalizedHash = await agreeAt(nodes, finalizedHeight);

    await heal(left, right);
    await finalityAdvances(nodes, 2, 60_000);
    const target = Math.min(...(await heights(nodes))) - 1;
    await agreeAt(nodes, target, 40_000);
    // The block finalized before the partition is still canonical everywhere.
    for (const n of nodes) expect(await blockHashAt(n, finalizedHeight)).toBe(finalizedHash);
  }, 150_000);

  it('slashes a validator that double-votes: evidence is included and its stake is gone', async () => {
    const offender = nodes[3]!;
    const key = (await loadKey(offender.datadir, 'validator')).keyPair;
    const head = await headOf(nodes[0]!);
    const finality = await rpcResult<{ justified: { height: number; hash: string } }>(nodes[0]!.rpcUrl, 'chain_getFinality');
    const vote = (targetHash: string) =>
      signTransaction(
        {
          chainId: 'medchain-net',
          sender: key.publicKey,
          nonce: 0,
          body: {
            type: TxType.Vote,
            sourceHeight: finality.justified.height,
            sourceHash: Buffer.from(finality.justified.hash, 'hex'),
            targetHeight: head.height + 5,
            targetHash: Buffer.from(targetHash, 'hex'),
          },
        },
        key.secretKey,
      );
    // Two votes for one target height: the second reveals the equivocation to the node that sees both.
    const first = await rpc(nodes[0]!.rpcUrl, 'tx_submit', [toHex(vote('11'.repeat(32)).bytes)]);
    // Kept (for conflict detection) but not forwarded: its target is not a known block.
    expect(first.error?.data).toMatchObject({ reason: 'VOTE_IGNORED' });
    await rpc(nodes[0]!.rpcUrl, 'tx_submit', [toHex(vote('22'.repeat(32)).bytes)]);
    const slashed = await waitFor(
      'the offender slashed on every node',
      async () => {
        const sets = await Promise.all(nodes.map((n) => rpcResult<{ validators: { id: string }[]; slashed: string[] }>(n.rpcUrl, 'chain_getValidators')));
        return sets.every((s) => s.slashed.includes(toHex(key.publicKey)) && !s.validators.some((v) => v.id === toHex(key.publicKey))) ? sets : undefined;
      },
      40_000,
      250,
    );
    expect(slashed[0]!.validators).toHaveLength(3);
    // The three left (3000 of 3000 stake) keep finalizing.
    await finalityAdvances(nodes.slice(0, 3), 2, 40_000);
  }, 90_000);

  it('a node that joins late syncs the whole chain and serves the same blocks', async () => {
    const started = Date.now();
    const follower = await net.addFollower('late', nodes.slice(0, 2));
    const target = (await headOf(nodes[0]!)).height;
    await waitFor('the late node syncs', async () => ((await headOf(follower)).height >= target ? true : undefined), 60_000, 100);
    const seconds = (Date.now() - started) / 1000;
    console.log(`[measure] a late node synced ${target} blocks in ${seconds.toFixed(1)} s (${(target / seconds).toFixed(0)} blocks/s, including process start)`);
    for (const height of [1, Math.floor(target / 2), target - 1]) {
      const [ours, theirs] = await Promise.all([
        rpcResult(follower.rpcUrl, 'chain_getBlock', [height, true]),
        rpcResult(nodes[0]!.rpcUrl, 'chain_getBlock', [height, true]),
      ]);
      expect(ours).toEqual(theirs);
    }
  }, 90_000);

  it('a node given a trusted checkpoint checks the header chain to it, skips signature checks below it and ends on the same state', async () => {
    const finality = await rpcResult<{ finalized: { height: number; hash: string } }>(nodes[0]!.rpcUrl, 'chain_getFinality');
    expect(finality.finalized.height).toBeGreaterThan(0);
    const follower = await net.addFollower('trusting', nodes.slice(0, 2), ['--assume-valid', `${finality.finalized.height}:${finality.finalized.hash}`]);
    const verified = await follower.proc!.waitForLog('header chain to the trusted checkpoint verified: its blocks are imported without signature checks', 30_000);
    expect(verified).toMatchObject({ from: 1, checkpoint: finality.finalized.height });
    const target = await headOf(nodes[0]!);
    await waitFor('the trusting node syncs', async () => ((await headOf(follower)).height >= target.height ? true : undefined), 60_000, 100);
    const [ours, theirs] = await Promise.all([
      rpcResult(follower.rpcUrl, 'chain_getBlock', [target.height, false]),
      rpcResult(nodes[0]!.rpcUrl, 'chain_getBlock', [target.height, false]),
    ]);
    expect(ours).toEqual(theirs);
  }, 90_000);
});
