import { concatBytes, readU32be, toHex, u32be, utf8 } from '../../../src/codec/bytes.ts';
import { sha256 } from '../../../src/crypto/hash.ts';
import type { ChainStatus, GossipKind, GossipVerdict, NetworkHandlers } from '../../../src/p2p/interface.ts';
import type { BlockRef, SyncChain } from '../../../src/p2p/sync.ts';
import { BlockError, BlockErrorCode, ErrorAction } from '../../../src/state/errors.ts';

/**
 * A toy chain for network tests: a block is `parent hash (32) ‖ height (u32) ‖ payload`, its hash is the
 * sha256 of those bytes, the score is the height. A payload starting with "bad" is invalid. Side branches are
 * kept; the highest block is the head (first seen wins a tie).
 */
export class ToyChain implements SyncChain {
  readonly genesis: Uint8Array;
  readonly genesisHash: Uint8Array;
  readonly #blocks = new Map<string, { bytes: Uint8Array; height: number; parent: Uint8Array }>();
  #canonical: Uint8Array[] = [];
  imports = 0;
  /** Heights of the blocks imported with their signatures trusted (sync.assumeValid), in import order. */
  readonly trustedImports: number[] = [];

  constructor(tag = 'toy') {
    this.genesis = ToyChain.block(new Uint8Array(32), 0, `genesis:${tag}`);
    this.genesisHash = sha256(this.genesis);
    this.#blocks.set(toHex(this.genesisHash), { bytes: this.genesis, height: 0, parent: new Uint8Array(32) });
    this.#canonical = [this.genesis];
  }

  static block(parent: Uint8Array, height: number, payload: string): Uint8Array {
    return concatBytes(parent, u32be(height), utf8(payload));
  }

  static hash(bytes: Uint8Array): Uint8Array {
    return sha256(bytes);
  }

  get head(): Uint8Array {
    return this.#canonical[this.#canonical.length - 1]!;
  }

  get height(): number {
    return this.#canonical.length - 1;
  }

  describeBlock(bytes: Uint8Array): BlockRef {
    if (bytes.length < 36) throw new Error(`a toy block has at least 36 bytes, got ${bytes.length}`);
    return { hash: sha256(bytes), parentHash: bytes.slice(0, 32), height: readU32be(bytes, 32) };
  }

  /** A toy block carries its own links: its bytes stand in for its header. */
  describeHeader(bytes: Uint8Array): BlockRef {
    return this.describeBlock(bytes);
  }

  has(hash: Uint8Array): boolean {
    return this.#blocks.has(toHex(hash));
  }

  async importBlock(bytes: Uint8Array, options: { signaturesTrusted?: boolean } = {}): Promise<unknown> {
    if (bytes.length < 36) throw new BlockError(BlockErrorCode.Decode, 'too short');
    const ref = this.describeBlock(bytes);
    if (this.#blocks.has(toHex(ref.hash))) throw new BlockError(BlockErrorCode.AlreadyKnown, 'known', ErrorAction.Ignore);
    const parent = this.#blocks.get(toHex(ref.parentHash));
    if (parent === undefined) throw new BlockError(BlockErrorCode.UnknownParent, 'unknown parent', ErrorAction.Ignore);
    if (ref.height !== parent.height + 1) throw new BlockError(BlockErrorCode.WrongHeight, `height ${ref.height}`);
    if (new TextDecoder().decode(bytes.subarray(36)).startsWith('bad')) {
      throw new BlockError(BlockErrorCode.InvalidTransaction, 'bad payload');
    }
    this.#blocks.set(toHex(ref.hash), { bytes, height: ref.height, parent: ref.parentHash });
    this.imports++;
    if (options.signaturesTrusted === true) this.trustedImports.push(ref.height);
    if (ref.height > this.height) this.#setHead(bytes);
    return ref;
  }

  /** Appends `count` valid blocks to the head. */
  extend(count: number, tag = 'b'): void {
    for (let i = 0; i < count; i++) {
      const bytes = ToyChain.block(sha256(this.head), this.height + 1, `${tag}${this.height + 1}`);
      const ref = this.describeBlock(bytes);
      this.#blocks.set(toHex(ref.hash), { bytes, height: ref.height, parent: ref.parentHash });
      this.#canonical.push(bytes);
    }
  }

  status(): ChainStatus {
    return {
      genesisHash: this.genesisHash,
      headHash: sha256(this.head),
      headHeight: this.height,
      headScore: BigInt(this.height),
      finalizedHash: this.genesisHash,
      finalizedHeight: 0,
    };
  }

  blocksByRange(start: number, count: number): Uint8Array[] {
    return this.#canonical.slice(start, start + count);
  }

  blockByHash(hash: Uint8Array): Uint8Array | undefined {
    return this.#blocks.get(toHex(hash))?.bytes;
  }

  #setHead(bytes: Uint8Array): void {
    const path: Uint8Array[] = [];
    let cursor: Uint8Array | undefined = bytes;
    while (cursor !== undefined) {
      path.push(cursor);
      const ref = this.describeBlock(cursor);
      if (ref.height === 0) break;
      cursor = this.#blocks.get(toHex(ref.parentHash))?.bytes;
    }
    this.#canonical = path.reverse();
  }
}

export interface RecordedGossip {
  readonly kind: GossipKind;
  readonly text: string;
  readonly from: string;
}

/** Handlers that serve a ToyChain: gossip starting with "bad" is rejected, everything else accepted and recorded. */
export function toyHandlers(chain: ToyChain): NetworkHandlers & { gossip: RecordedGossip[]; statuses: Array<{ peer: string; status: ChainStatus }> } {
  const gossip: RecordedGossip[] = [];
  const statuses: Array<{ peer: string; status: ChainStatus }> = [];
  return {
    gossip,
    statuses,
    async onGossip(kind: GossipKind, data: Uint8Array, from: string): Promise<GossipVerdict> {
      const text = new TextDecoder().decode(data);
      if (text.startsWith('bad')) return 'reject';
      gossip.push({ kind, text, from });
      return 'accept';
    },
    status: () => chain.status(),
    blocksByRange: async (start, count) => chain.blocksByRange(start, count),
    blockByHash: async (hash) => chain.blockByHash(hash),
    // A toy block is small and carries its own links: its bytes stand in for its header.
    headersByRange: async (start, count) => chain.blocksByRange(start, count),
    async blob(request: Uint8Array): Promise<Uint8Array> {
      const text = new TextDecoder().decode(request);
      if (text === 'deny') throw new Error('NO_GRANT: the policy does not allow this read');
      return utf8(`blob:${text}`);
    },
    onPeerStatus(peer: string, status: ChainStatus): void {
      statuses.push({ peer, status });
    },
  };
}
