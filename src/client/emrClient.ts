import { fromHex, toHex } from '../codec/bytes.ts';
import { encodeEnvelopeUpload } from '../codec/envelopeUpload.ts';
import { sign, type KeyPair } from '../crypto/ed25519.ts';
import {
  commitCiphertext,
  decryptRecord,
  encryptRecord,
  newCommitmentSalt,
  recordAssociatedData,
  unwrapDataKey,
  wrapDataKey,
  type RandomSource,
} from '../envelope/index.ts';
import { DEFAULT_POLICY } from '../script/index.ts';
import type { AccessAction } from '../types/record.ts';
import { TxType, type TxBody } from '../types/transaction.ts';
import { signTransaction } from './signTransaction.ts';

/** The one thing the EMR client needs from a transport: JSON-RPC calls that throw on error answers. */
export interface RpcCaller {
  call<T>(method: string, params: unknown[]): Promise<T>;
}

export interface EmrClientOptions {
  readonly chainId: string;
  readonly random: RandomSource;
  /** How long to wait for a transaction to be included. */
  readonly timeoutMs?: number;
  readonly pollMs?: number;
}

interface TxStatus {
  status: 'pending' | 'included' | 'unknown';
  height?: number;
}

/** What a read returns to the reader's device: the plaintext and where its receipt is on chain. */
export interface RecordRead {
  readonly plaintext: Uint8Array;
  readonly receipt: { readonly txId: string; readonly height: number; readonly blockHash: string };
  /** Break-glass: the key came from a hospital's escrow, not from an envelope the patient made for this reader. */
  readonly escrowed: boolean;
}

/**
 * The patient's and doctor's side of the EMR flow: encryption, commitments and signing happen here, on the
 * user's device; the node only ever receives ciphertexts, envelopes for named readers, and signed transactions.
 */
export class EmrClient {
  readonly #rpc: RpcCaller;
  readonly #key: KeyPair;
  readonly #options: EmrClientOptions;

  constructor(rpc: RpcCaller, key: KeyPair, options: EmrClientOptions) {
    this.#rpc = rpc;
    this.#key = key;
    this.#options = options;
  }

  get account(): string {
    return toHex(this.#key.publicKey);
  }

  /** Registers this key as a patient or doctor (once). */
  async register(role: 'patient' | 'doctor'): Promise<string> {
    return this.#send({ type: TxType.RegisterIdentity, role });
  }

  /** As a hospital: attests that `doctor` is licensed until `expiresAt` (block time, ms). */
  attest(doctor: Uint8Array, name: string, licence: string, expiresAt: number): Promise<string> {
    return this.#send({ type: TxType.AttestDoctor, doctor, name, licence, expiresAt });
  }

  /** As a hospital (PoS): bonds `amount` of its unbonded balance as validator stake, effective some blocks later. */
  stake(amount: bigint): Promise<string> {
    return this.#send({ type: TxType.Stake, amount });
  }

  /** As a validator (PoS): withdraws `amount` of stake to its balance, effective some blocks later. */
  unstake(amount: bigint): Promise<string> {
    return this.#send({ type: TxType.Unstake, amount });
  }

  /** As a hospital: withdraws its attestation of `doctor`, which ends their access under the shipped policies. */
  revokeAttestation(doctor: Uint8Array, reason: string): Promise<string> {
    return this.#send({ type: TxType.RevokeAttestation, doctor, reason });
  }

  /**
   * Encrypts `plaintext` as a new record owned by this patient; uploads its ciphertext, the owner's envelope,
   * and envelopes for `escrow` (hospitals that may re-wrap the key for a doctor's recorded break-glass read).
   */
  async createRecord(plaintext: Uint8Array, contentType: string, policy: Uint8Array = DEFAULT_POLICY, escrow: readonly Uint8Array[] = []): Promise<string> {
    const { chainId, random } = this.#options;
    // Version 0 is encrypted before its record id (the creating tx id) exists, so its associated data has none.
    const { ciphertext, dataKey } = encryptRecord(plaintext, { random, associatedData: recordAssociatedData(chainId, null, 0) });
    const salt = newCommitmentSalt(random);
    const body: TxBody = { type: TxType.CreateRecord, commitment: commitCiphertext(ciphertext, salt), size: ciphertext.length, contentType, policy };
    const recordId = await this.#send(body);
    await this.#upload(recordId, 0, salt, ciphertext, dataKey, [this.#key.publicKey, ...escrow]);
    return recordId;
  }

  /** Adds a version (as the owner, or a writer the policy allows); envelopes go to the owner, this author and `readers`. */
  async addVersion(recordId: string, plaintext: Uint8Array, contentType: string, readers: readonly Uint8Array[] = []): Promise<number> {
    const { chainId, random } = this.#options;
    const record = await this.#rpc.call<{ owner: string; versions: unknown[] }>('record_get', [recordId]);
    const version = record.versions.length;
    const { ciphertext, dataKey } = encryptRecord(plaintext, { random, associatedData: recordAssociatedData(chainId, fromHex(recordId)!, version) });
    const salt = newCommitmentSalt(random);
    await this.#send({ type: TxType.AddRecordVersion, record: fromHex(recordId)!, commitment: commitCiphertext(ciphertext, salt), size: ciphertext.length, contentType });
    const recipients = [fromHex(record.owner)!, this.#key.publicKey, ...readers];
    await this.#upload(recordId, version, salt, ciphertext, dataKey, recipients);
    return version;
  }

  /**
   * Shares a record: an envelope of every version's data key for the grantee, then the on-chain grant. The
   * owner unwraps its own envelopes to do so, which is a read and leaves receipts, purpose PATADMIN.
   */
  async grant(recordId: string, grantee: Uint8Array, scope: readonly AccessAction[], expiresAt: number | null): Promise<string> {
    const record = await this.#rpc.call<{ versions: unknown[] }>('record_get', [recordId]);
    for (let version = 0; version < record.versions.length; version++) {
      const dataKey = (await this.#readKey(recordId, version, 'PATADMIN')).dataKey;
      await this.#uploadEnvelopes(recordId, version, dataKey, [grantee]);
    }
    return this.#send({ type: TxType.GrantAccess, record: fromHex(recordId)!, grantee, scope, expiresAt });
  }

  /** Ends a grant from the next block on. What the grantee already decrypted cannot be taken back. */
  revoke(recordId: string, grantee: Uint8Array): Promise<string> {
    return this.#send({ type: TxType.RevokeAccess, record: fromHex(recordId)!, grantee });
  }

  /** Erases a record: every node deletes its ciphertexts and envelopes; the chain keeps a tombstone. */
  erase(recordId: string): Promise<string> {
    return this.#send({ type: TxType.EraseRecord, record: fromHex(recordId)! });
  }

  /** Reads and decrypts a version; the signed request is recorded on chain before the node answers. */
  async read(recordId: string, version: number, purpose: string, emergency?: { reason: string }): Promise<RecordRead> {
    const { dataKey, ciphertext, receipt, escrowed: answer } = await this.#readKey(recordId, version, purpose, emergency);
    const associatedData = recordAssociatedData(this.#options.chainId, version === 0 ? null : fromHex(recordId)!, version);
    return { plaintext: decryptRecord(ciphertext, dataKey, associatedData), receipt, escrowed: answer };
  }

  async #readKey(recordId: string, version: number, purpose: string, emergency?: { reason: string }) {
    const tx = signTransaction(
      {
        chainId: this.#options.chainId,
        sender: this.#key.publicKey,
        nonce: await this.#nonce(),
        body: { type: TxType.ReadRecord, record: fromHex(recordId)!, version, purpose, emergency: emergency !== undefined, reason: emergency?.reason ?? '' },
      },
      this.#key.secretKey,
    );
    const answer = await this.#rpc.call<{ txId: string; height: number; blockHash: string; salt: string; ciphertext: string; envelope: string; escrowed: boolean }>('emr_read', [
      toHex(tx.bytes),
    ]);
    const dataKey = unwrapDataKey(fromHex(answer.envelope)!, this.#key.seed, recordAssociatedData(this.#options.chainId, fromHex(recordId)!, version));
    return {
      dataKey,
      ciphertext: base64ToBytes(answer.ciphertext),
      receipt: { txId: answer.txId, height: answer.height, blockHash: answer.blockHash },
      escrowed: answer.escrowed,
    };
  }

  async #upload(recordId: string, version: number, salt: Uint8Array, ciphertext: Uint8Array, dataKey: Uint8Array, readers: readonly Uint8Array[]): Promise<void> {
    await this.#rpc.call('record_upload', [recordId, version, toHex(salt), bytesToBase64(ciphertext)]);
    await this.#uploadEnvelopes(recordId, version, dataKey, readers);
  }

  async #uploadEnvelopes(recordId: string, version: number, dataKey: Uint8Array, readers: readonly Uint8Array[]): Promise<void> {
    const { chainId, random } = this.#options;
    const associatedData = recordAssociatedData(chainId, fromHex(recordId)!, version);
    const unique = [...new Map(readers.map((r) => [toHex(r), r])).values()];
    const upload = encodeEnvelopeUpload({
      chainId,
      record: fromHex(recordId)!,
      version,
      uploader: this.#key.publicKey,
      envelopes: unique.map((reader) => ({ reader, envelope: wrapDataKey(dataKey, reader, { random, associatedData }) })),
    });
    await this.#rpc.call('record_uploadEnvelopes', [toHex(upload), toHex(sign(upload, this.#key.secretKey))]);
  }

  async #nonce(): Promise<number> {
    const identity = await this.#rpc.call<{ nonce: number } | null>('identity_get', [this.account]);
    return identity?.nonce ?? 0;
  }

  /** Signs, submits and waits until the transaction is included; returns its id. */
  async #send(body: TxBody): Promise<string> {
    const tx = signTransaction({ chainId: this.#options.chainId, sender: this.#key.publicKey, nonce: await this.#nonce(), body }, this.#key.secretKey);
    const { txId } = await this.#rpc.call<{ txId: string }>('tx_submit', [toHex(tx.bytes)]);
    await this.#waitForInclusion(txId);
    return txId;
  }

  async #waitForInclusion(txId: string): Promise<void> {
    const deadline = Date.now() + (this.#options.timeoutMs ?? 30_000);
    for (;;) {
      const status = await this.#rpc.call<TxStatus>('tx_get', [txId]);
      if (status.status === 'included') return;
      if (status.status === 'unknown') throw new Error(`transaction ${txId} was dropped by the node`);
      if (Date.now() > deadline) throw new Error(`transaction ${txId} was not included in time`);
      await new Promise((resolve) => setTimeout(resolve, this.#options.pollMs ?? 200));
    }
  }
}

// Browser-safe base64 (no Buffer): the node sends ciphertexts base64-encoded.
function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
