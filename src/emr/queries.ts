import type { Chain } from '../chain/chain.ts';
import { indexKey } from '../chain/indexer.ts';
import { readU32be, toHex } from '../codec/bytes.ts';
import { TX_TYPE_NAMES } from '../codec/payloads.ts';
import { merkleProofs, type MerkleProof } from '../crypto/merkle.ts';
import { getGrant, getRecord } from '../state/accessors.ts';
import type { Block } from '../types/block.ts';
import type { Grant, RecordMeta } from '../types/record.ts';
import { TxType, type Transaction } from '../types/transaction.ts';
import type { DeniedRead, RecordService } from './recordService.ts';

/** One line of a record's audit trail: who did what, when, why, and the proof that it is on chain. */
export interface AuditEntry {
  readonly record: Uint8Array;
  readonly txId: Uint8Array;
  readonly action: string;
  readonly actor: Uint8Array;
  /** Block time, ms. */
  readonly time: number;
  readonly height: number;
  readonly blockHash: Uint8Array;
  readonly index: number;
  readonly txRoot: Uint8Array;
  readonly proof: MerkleProof;
  readonly version?: number;
  readonly purpose?: string;
  readonly emergency?: boolean;
  readonly reason?: string;
  readonly grantee?: Uint8Array;
  readonly scope?: readonly string[];
  readonly expiresAt?: number | null;
}

/** A current or past holder of access to a record. */
export interface AccessHolder extends Grant {
  /** Unrevoked and unexpired at the head block's time. */
  readonly active: boolean;
}

/** Read-only queries over the node's indexes and state: lists, holders and audit trails. */
export class RecordQueries {
  readonly #chain: Chain;
  readonly #service: RecordService;

  constructor(chain: Chain, service: RecordService) {
    this.#chain = chain;
    this.#service = service;
  }

  /** Records an account owns, or (`as: 'grantee'`) was ever granted, with their metadata. */
  async listRecords(account: Uint8Array, as: 'owner' | 'grantee', limit = 1000): Promise<{ record: RecordMeta; grant: Grant | undefined }[]> {
    const prefix = as === 'owner' ? indexKey.ownedPrefix(account) : indexKey.grantedPrefix(account);
    const out: { record: RecordMeta; grant: Grant | undefined }[] = [];
    for await (const { key } of this.#chain.store.readIndex(prefix, limit)) {
      const id = key.slice(prefix.length, prefix.length + 32);
      const record = getRecord(this.#chain.state, id);
      if (record !== undefined) out.push({ record, grant: as === 'grantee' ? getGrant(this.#chain.state, id, account) : undefined });
    }
    return out;
  }

  /** Everyone ever granted access to a record, with whether the grant holds now. */
  async accessHolders(record: Uint8Array): Promise<AccessHolder[]> {
    const prefix = indexKey.holderPrefix(record);
    const now = this.#chain.head.header.time;
    const out: AccessHolder[] = [];
    for await (const { key } of this.#chain.store.readIndex(prefix)) {
      const grant = getGrant(this.#chain.state, record, key.slice(prefix.length, prefix.length + 32));
      if (grant === undefined) continue;
      out.push({ ...grant, active: grant.revokedAt === null && (grant.expiresAt === null || grant.expiresAt > now) });
    }
    return out;
  }

  /** A record's audit trail: every transaction about it, oldest first, each with its inclusion proof. */
  async auditTrail(record: Uint8Array, limit = 10_000): Promise<AuditEntry[]> {
    const prefix = indexKey.recordTxPrefix(record);
    // Group the trail by block so each block is read and its Merkle tree built once, however many entries it holds.
    const byHeight = new Map<number, number[]>();
    for await (const { key } of this.#chain.store.readIndex(prefix, limit)) {
      const height = readU32be(key, prefix.length);
      const indexes = byHeight.get(height) ?? [];
      indexes.push(readU32be(key, prefix.length + 4));
      byHeight.set(height, indexes);
    }
    const out: AuditEntry[] = [];
    for (const [height, indexes] of byHeight) {
      const block = await this.#chain.getBlockByHeight(height);
      if (block === undefined) continue;
      const present = indexes.filter((i) => i < block.transactions.length);
      const proofs = merkleProofs(
        block.transactions.map((t) => t.id),
        present,
      );
      present.forEach((index, i) => out.push(entryOf(record, block.transactions[index]!, block, index, proofs[i]!)));
    }
    return out;
  }

  /** A patient's whole trail: the trails of every record they own, in chain order. */
  async patientTrail(patient: Uint8Array): Promise<AuditEntry[]> {
    const owned = await this.listRecords(patient, 'owner');
    const all = (await Promise.all(owned.map(({ record }) => this.auditTrail(record.id)))).flat();
    return all.sort((a, b) => a.height - b.height || a.index - b.index);
  }

  deniedReads(record: Uint8Array): Promise<DeniedRead[]> {
    return this.#service.listDeniedReads(record);
  }
}

function entryOf(record: Uint8Array, tx: Transaction, block: Block, index: number, proof: MerkleProof): AuditEntry {
  const base = {
    record,
    txId: tx.id,
    action: TX_TYPE_NAMES[tx.body.type],
    actor: tx.sender,
    time: block.header.time,
    height: block.header.height,
    blockHash: block.hash,
    index,
    txRoot: block.header.txRoot,
    proof,
  };
  const body = tx.body;
  switch (body.type) {
    case TxType.ReadRecord:
      return { ...base, version: body.version, purpose: body.purpose, emergency: body.emergency, reason: body.reason };
    case TxType.GrantAccess:
      return { ...base, grantee: body.grantee, scope: body.scope, expiresAt: body.expiresAt };
    case TxType.RevokeAccess:
      return { ...base, grantee: body.grantee };
    default:
      return base;
  }
}

/** FHIR R4 AuditEvent for one trail entry (HIPAA accounting of disclosures: when, who, what, why). */
export function auditEventResource(entry: AuditEntry): Record<string, unknown> {
  const isRead = entry.action === 'access.read';
  return {
    resourceType: 'AuditEvent',
    id: toHex(entry.txId),
    type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' },
    subtype: [{ system: 'https://medchain.dev/fhir/action', code: entry.action }],
    action: isRead ? 'R' : entry.action === 'record.create' ? 'C' : entry.action === 'record.erase' ? 'D' : 'U',
    recorded: new Date(entry.time).toISOString(),
    outcome: '0',
    ...(entry.purpose ? { purposeOfEvent: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: entry.purpose }] }] } : {}),
    agent: [
      {
        who: { identifier: { system: 'https://medchain.dev/fhir/account', value: toHex(entry.actor) } },
        requestor: true,
        ...(entry.emergency ? { policy: ['break-glass'], name: entry.reason } : {}),
      },
    ],
    source: { observer: { display: `medchain block ${entry.height} (${toHex(entry.blockHash)})` } },
    entity: [{ what: { identifier: { system: 'https://medchain.dev/fhir/record', value: toHex(entry.record) } }, ...(entry.version !== undefined ? { name: `version ${entry.version}` } : {}) }],
  };
}

/** FHIR R4 Consent for one grant of a patient's record. */
export function consentResource(owner: Uint8Array, record: Uint8Array, holder: AccessHolder): Record<string, unknown> {
  return {
    resourceType: 'Consent',
    id: `${toHex(record).slice(0, 32)}-${toHex(holder.grantee).slice(0, 32)}`,
    status: holder.active ? 'active' : 'inactive',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0', display: 'Patient Consent' }] }],
    patient: { identifier: { system: 'https://medchain.dev/fhir/account', value: toHex(owner) } },
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
    provision: {
      type: 'permit',
      ...(holder.expiresAt !== null ? { period: { end: new Date(holder.expiresAt).toISOString() } } : {}),
      actor: [{ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'PRCP' }] }, reference: { identifier: { system: 'https://medchain.dev/fhir/account', value: toHex(holder.grantee) } } }],
      action: holder.scope.map((s) => ({ coding: [{ system: 'https://medchain.dev/fhir/scope', code: s }] })),
      data: [{ meaning: 'instance', reference: { identifier: { system: 'https://medchain.dev/fhir/record', value: toHex(record) } } }],
    },
  };
}
