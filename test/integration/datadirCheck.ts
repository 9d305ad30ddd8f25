import { expect } from 'vitest';
import { Chain } from '../../src/chain/chain.ts';
import { InlineSignatureVerifier } from '../../src/chain/signatureVerifier.ts';
import { decodeBlock } from '../../src/codec/block.ts';
import { toHex } from '../../src/codec/bytes.ts';
import { createEngine } from '../../src/consensus/index.ts';
import { chainDatabaseDir } from '../../src/node/openChain.ts';
import { KeyPrefix, KvChainStore, LevelKeyValueStore } from '../../src/store/index.ts';
import { prefixRange } from '../../src/store/keys.ts';
import { silentLogger } from '../helpers/fixtures.ts';
import type { ReferenceChain } from './referenceChain.ts';

export interface DatadirCheck {
  /** Head height found on disk; -1 for a datadir killed before its genesis batch. */
  readonly height: number;
}

/**
 * Opens a datadir the way a restarting node does and checks it holds exactly the reference chain up to its
 * head h: head, blocks, metas, undo records, canonical index 0..h, the tx index of blocks 1..h and nothing
 * of blocks after h, and every state entry equal to the reference state at h. Then starts a Chain on it
 * (what a restart does) and, with `importNext`, imports block h+1 there: the state loaded from disk must
 * reproduce the next state root.
 */
export async function checkDatadir(datadir: string, ref: ReferenceChain, options: { importNext?: boolean } = {}): Promise<DatadirCheck> {
  const kv = new LevelKeyValueStore(chainDatabaseDir(datadir));
  const store = new KvChainStore(kv);
  await store.start();
  try {
    const count = async (prefix: KeyPrefix): Promise<number> => {
      let n = 0;
      for await (const _ of kv.iterate(prefixRange(prefix))) n++;
      return n;
    };
    const genesisHash = await store.getMeta('genesisHash');
    const head = await store.getHead();
    if (genesisHash === undefined) {
      // Killed before the genesis batch committed: nothing at all may be there.
      expect(head).toBeUndefined();
      for (const prefix of Object.values(KeyPrefix)) expect(await count(prefix), `keys under prefix ${prefix}`).toBe(0);
      return { height: -1 };
    }
    expect(toHex(genesisHash)).toBe(toHex(ref.blocks[0]!.hash));
    expect(head).toBeDefined();
    const h = head!.height;
    const last = ref.blocks.length - 1;
    expect(h).toBeLessThanOrEqual(last);
    expect(toHex(head!.hash)).toBe(toHex(ref.blocks[h]!.hash));
    const headBytes = await store.getBlock(head!.hash);
    expect(headBytes).toBeDefined();
    expect(toHex(decodeBlock(headBytes!).header.stateRoot)).toBe(toHex(ref.blocks[h]!.header.stateRoot));

    // Exactly the blocks 0..h, each once, with its meta and (after genesis) its undo record.
    expect(await count(KeyPrefix.Block)).toBe(h + 1);
    expect(await count(KeyPrefix.BlockMeta)).toBe(h + 1);
    expect(await count(KeyPrefix.Header)).toBe(h + 1);
    expect(await count(KeyPrefix.Undo)).toBe(h);
    expect(await count(KeyPrefix.CanonicalHash)).toBe(h + 1);
    for (let i = 0; i <= last; i++) {
      const canonical = await store.getCanonicalHash(i);
      if (i <= h) expect(canonical && toHex(canonical), `canonical hash at ${i}`).toBe(toHex(ref.blocks[i]!.hash));
      else expect(canonical, `canonical hash at ${i} above the head ${h}`).toBeUndefined();
      if (i > h) expect(await store.getBlock(ref.blocks[i]!.hash), `block ${i} above the head ${h}`).toBeUndefined();
    }

    // The tx index: every transaction of blocks 1..h where it is, none of the blocks above.
    let txs = 0;
    for (let i = 1; i <= last; i++) {
      const block = ref.blocks[i]!;
      for (let index = 0; index < block.transactions.length; index++) {
        const location = await store.getTxLocation(block.transactions[index]!.id);
        if (i <= h) {
          txs++;
          expect(location && { block: toHex(location.blockHash), height: location.height, index: location.index }, `tx ${index} of block ${i}`).toEqual({
            block: toHex(block.hash),
            height: i,
            index,
          });
        } else if (location !== undefined) {
          expect.fail(`tx ${index} of block ${i} is indexed, but the head is ${h}`);
        }
      }
    }
    expect(await count(KeyPrefix.TxIndex)).toBe(txs);

    // The state, entry by entry, against the reference state at h.
    const expected = ref.stateAt(h);
    const found = new Map<string, string>();
    for await (const { key, value } of store.readState()) found.set(toHex(key), toHex(value));
    expect(found.size).toBe(expected.size);
    for (const [key, value] of expected) {
      if (found.get(key) !== value) expect.fail(`state key ${key} at height ${h}: found ${found.get(key) ?? 'nothing'}, expected ${value}`);
    }

    // What a restart does: load the head and the state, then (optionally) go on from there.
    const chain = new Chain(
      { genesis: ref.genesis },
      { store, engine: createEngine(ref.genesis), verifier: new InlineSignatureVerifier(), logger: silentLogger, clock: Date.now },
    );
    await chain.start();
    expect(chain.head.header.height).toBe(h);
    expect(toHex(chain.head.header.stateRoot)).toBe(toHex(ref.blocks[h]!.header.stateRoot));
    if (options.importNext === true && h < last) {
      await chain.importBlock(ref.blocks[h + 1]!.bytes);
      expect(toHex(chain.head.hash)).toBe(toHex(ref.blocks[h + 1]!.hash));
      expect(toHex(chain.head.header.stateRoot)).toBe(toHex(ref.blocks[h + 1]!.header.stateRoot));
    }
    await chain.stop();
    return { height: h };
  } finally {
    await store.stop();
  }
}
