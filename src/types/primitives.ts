/** Sizes and limits of the wire formats. Changing any of these is a hard fork. */

export const HASH_LENGTH = 32;
export const ACCOUNT_ID_LENGTH = 32;
export const SIGNATURE_LENGTH = 64;

/** Chain ids are short lowercase names, e.g. `medchain-dev`; they are in every signed message. */
export const CHAIN_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/;
export const MAX_CHAIN_ID_BYTES = 32;

export const MAX_TX_BYTES = 16 * 1024;
export const MAX_HEADER_BYTES = 512;
export const MAX_SEAL_BYTES = 128;
export const MAX_BLOCK_TXS = 10_000;
export const MAX_BLOCK_BYTES = 8 * 1024 * 1024;

/** An account id: the 32-byte Ed25519 public key of a person or hospital. */
export type AccountId = Uint8Array;
export type Hash = Uint8Array;

export const ZERO_HASH: Hash = new Uint8Array(HASH_LENGTH);
