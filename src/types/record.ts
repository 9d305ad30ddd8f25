import type { AccountId, Hash } from './primitives.ts';

/** What a grant lets its holder do; also the actions a policy decides. */
export type AccessAction = 'read' | 'write' | 'delegate';
export const ACCESS_ACTIONS: readonly AccessAction[] = ['read', 'write', 'delegate'];

/** A medical record's on-chain part: who owns it and which policy guards it. Never any plaintext. */
export interface RecordMeta {
  /** The id of the transaction that created it. */
  readonly id: Hash;
  readonly owner: AccountId;
  /** Policy bytecode (see src/script); checked before it is stored. */
  readonly policy: Uint8Array;
  /** Height of the creating block. */
  readonly createdAt: number;
  readonly versionCount: number;
  /** Height of the erasing block (the tombstone), or null while the record lives. */
  readonly erasedAt: number | null;
}

/** One version: a salted commitment of its ciphertext, and metadata that reveals nothing personal. */
export interface RecordVersion {
  readonly commitment: Hash;
  readonly size: number;
  readonly contentType: string;
  readonly author: AccountId;
  readonly addedAt: number;
}

/** A record owner's (or delegate's) grant to one account. */
export interface Grant {
  readonly grantee: AccountId;
  readonly grantor: AccountId;
  readonly scope: readonly AccessAction[];
  /** Block time (ms) after which it no longer applies; null: until revoked. */
  readonly expiresAt: number | null;
  readonly grantedAt: number;
  readonly revokedAt: number | null;
}
