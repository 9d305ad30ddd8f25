import { decodeCanonical, encodeCanonical } from '../codec/canonical.ts';
import { expectArray, expectBytes, expectU32 } from '../codec/fields.ts';
import { HASH_LENGTH, type Hash } from '../types/primitives.ts';
import type { StateOverlay, StateReader } from './overlay.ts';
import { stateKey } from './stateKeys.ts';

/** A block named by height and hash: a justified or finalized checkpoint. */
export interface Checkpoint {
  readonly height: number;
  readonly hash: Hash;
}

export interface Finality {
  readonly justified: Checkpoint;
  readonly finalized: Checkpoint;
}

/** The chain's finality as recorded in `state`; before any vote counts, genesis is both. */
export function finalityOf(state: StateReader, genesisHash: Hash): Finality {
  const bytes = state.get(stateKey.finality());
  if (bytes === undefined) return { justified: { height: 0, hash: genesisHash }, finalized: { height: 0, hash: genesisHash } };
  const [jh, jhash, fh, fhash] = expectArray(decodeCanonical(bytes, 256, 'finality'), 4, 'finality');
  return {
    justified: { height: expectU32(jh, 'finality.justifiedHeight'), hash: expectBytes(jhash, HASH_LENGTH, 'finality.justifiedHash') },
    finalized: { height: expectU32(fh, 'finality.finalizedHeight'), hash: expectBytes(fhash, HASH_LENGTH, 'finality.finalizedHash') },
  };
}

export function putFinality(state: StateOverlay, f: Finality): void {
  state.set(stateKey.finality(), encodeCanonical([f.justified.height, f.justified.hash, f.finalized.height, f.finalized.hash]));
}

/** The hash of the justified checkpoint at `height`, if that height is justified (genesis always is). */
export function justifiedAt(state: StateReader, height: number, genesisHash: Hash): Hash | undefined {
  if (height === 0) return genesisHash;
  return state.get(stateKey.justified(height));
}
