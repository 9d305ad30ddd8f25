/** Pure cryptography: SHA-256, Ed25519 (the consensus verification rule) and the transaction Merkle tree. */
export { sha256, SHA256_LENGTH } from './hash.ts';
export {
  PUBLIC_KEY_LENGTH,
  SIGNATURE_LENGTH,
  SEED_LENGTH,
  SECRET_KEY_LENGTH,
  keyPairFromSeed,
  sign,
  verify,
  fingerprint,
} from './ed25519.ts';
export type { KeyPair } from './ed25519.ts';
export { MERKLE_HASH_LENGTH, EMPTY_MERKLE_ROOT, merkleRoot, merkleProof, merkleProofs, verifyMerkleProof } from './merkle.ts';
export type { MerkleProof } from './merkle.ts';
