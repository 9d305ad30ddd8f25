import Type from 'typebox';
import { defineMethod, type RpcMethod } from '../method.ts';
import { toHex } from '../../codec/bytes.ts';
import { fingerprint } from '../../crypto/ed25519.ts';
import { auditEventResource, consentResource, type AuditEntry } from '../../emr/queries.ts';
import { Hash32, HexBytes, HexString, MerkleProofJson, proofToJson } from './json.ts';
import { asRpcError, DECODE_KINDS, REJECT_KINDS } from './rejections.ts';
import type { NodeApi } from './nodeApi.ts';

const BASE64 = '^[A-Za-z0-9+/]*={0,2}$';

/** Bulk bytes (ciphertexts) travel as base64: a third the size of hex inside the 5 MiB body limit. */
const Base64Bytes = Type.Codec(Type.String({ pattern: BASE64, description: 'base64 bytes' }))
  .Decode((text) => new Uint8Array(Buffer.from(text, 'base64')))
  .Encode((bytes) => Buffer.from(bytes).toString('base64'));

const ALL_REFUSALS = [...DECODE_KINDS.values(), ...REJECT_KINDS.values()];

const AuditEntryJson = Type.Object({
  record: HexString,
  txId: HexString,
  action: Type.String({ description: 'record.create, access.grant, access.read, ...' }),
  actor: HexString,
  actorFingerprint: Type.String(),
  time: Type.Integer({ description: 'block time, ms since the epoch' }),
  height: Type.Integer(),
  blockHash: HexString,
  index: Type.Integer(),
  txRoot: HexString,
  proof: MerkleProofJson,
  version: Type.Optional(Type.Integer()),
  purpose: Type.Optional(Type.String()),
  emergency: Type.Optional(Type.Boolean()),
  reason: Type.Optional(Type.String()),
  grantee: Type.Optional(HexString),
  scope: Type.Optional(Type.Array(Type.String())),
  expiresAt: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
});

function entryToJson(e: AuditEntry): Type.Static<typeof AuditEntryJson> {
  return {
    record: toHex(e.record),
    txId: toHex(e.txId),
    action: e.action,
    actor: toHex(e.actor),
    actorFingerprint: fingerprint(e.actor),
    time: e.time,
    height: e.height,
    blockHash: toHex(e.blockHash),
    index: e.index,
    txRoot: toHex(e.txRoot),
    proof: proofToJson(e.proof),
    ...(e.version !== undefined ? { version: e.version } : {}),
    ...(e.purpose !== undefined ? { purpose: e.purpose } : {}),
    ...(e.emergency !== undefined ? { emergency: e.emergency } : {}),
    ...(e.reason !== undefined ? { reason: e.reason } : {}),
    ...(e.grantee !== undefined ? { grantee: toHex(e.grantee) } : {}),
    ...(e.scope !== undefined ? { scope: [...e.scope] } : {}),
    ...(e.expiresAt !== undefined ? { expiresAt: e.expiresAt } : {}),
  };
}

const GrantJson = Type.Object({
  grantee: HexString,
  granteeFingerprint: Type.String(),
  grantor: HexString,
  scope: Type.Array(Type.String()),
  expiresAt: Type.Union([Type.Integer(), Type.Null()]),
  grantedAt: Type.Integer(),
  revokedAt: Type.Union([Type.Integer(), Type.Null()]),
  active: Type.Boolean(),
});

/** record_upload, record_uploadEnvelopes, emr_read, record_list, access_list, audit_trail, audit_fhir. */
export function emrMethods(api: NodeApi): RpcMethod[] {
  const { chain, records, queries } = api;
  const refusing = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw asRpcError(error);
    }
  };
  return [
    defineMethod({
      name: 'record_upload',
      summary: "Stores a version's ciphertext, checked against the commitment and size on chain.",
      params: [
        { name: 'recordId', schema: Hash32 },
        { name: 'version', schema: Type.Integer({ minimum: 0, maximum: 0xffffffff }) },
        { name: 'salt', schema: Hash32, description: 'the commitment salt (32 bytes hex)' },
        { name: 'ciphertext', schema: Base64Bytes },
      ],
      result: { name: 'stored', schema: Type.Object({ bytes: Type.Integer() }) },
      errors: ALL_REFUSALS,
      handler: ({ recordId, version, salt, ciphertext }) =>
        refusing(async () => {
          await records.uploadCiphertext(recordId, version, salt, ciphertext);
          return { bytes: ciphertext.length };
        }),
    }),
    defineMethod({
      name: 'record_uploadEnvelopes',
      summary: "Stores key envelopes for a version from a signed upload by the record's owner or the version's author.",
      params: [
        { name: 'upload', schema: HexBytes, description: 'canonical encoding of the envelope upload (src/codec/envelopeUpload.ts)' },
        { name: 'signature', schema: HexBytes, description: "the uploader's Ed25519 signature of those bytes" },
      ],
      result: { name: 'stored', schema: Type.Object({ envelopes: Type.Integer() }) },
      errors: ALL_REFUSALS,
      handler: ({ upload, signature }) => refusing(async () => ({ envelopes: await records.uploadEnvelopes(upload, signature) })),
    }),
    defineMethod({
      name: 'emr_read',
      summary: 'Reads a record version: the signed read request goes on chain as a receipt, then the ciphertext and your envelope are returned.',
      description:
        'The request is an access.read transaction. The record policy is checked on entry and again when its block is built; nothing is ' +
        'served until the receipt is included, so every read this node serves is in the audit trail. Refusals are logged on this node.',
      params: [{ name: 'request', schema: HexBytes, description: 'wire bytes of the signed access.read transaction' }],
      result: {
        name: 'read',
        schema: Type.Object({
          txId: HexString,
          height: Type.Integer(),
          blockHash: HexString,
          recordId: HexString,
          version: Type.Integer(),
          salt: HexString,
          ciphertext: Type.String({ description: 'base64' }),
          envelope: HexString,
          escrowed: Type.Boolean({ description: "break-glass: the envelope was re-wrapped from this hospital's escrow" }),
        }),
      },
      errors: ALL_REFUSALS,
      handler: ({ request }) =>
        refusing(async () => {
          const read = await records.read(request);
          return {
            txId: toHex(read.txId),
            height: read.height,
            blockHash: toHex(read.blockHash),
            recordId: toHex(read.record),
            version: read.version,
            salt: toHex(read.salt),
            ciphertext: Buffer.from(read.ciphertext).toString('base64'),
            envelope: toHex(read.envelope),
            escrowed: read.escrowed,
          };
        }),
    }),
    defineMethod({
      name: 'record_list',
      summary: 'Records an account owns, or was granted (with the grant), newest metadata from the head state.',
      params: [
        { name: 'account', schema: Hash32 },
        { name: 'as', schema: Type.Union([Type.Literal('owner'), Type.Literal('grantee')]), required: false, description: 'default owner' },
      ],
      result: {
        name: 'records',
        schema: Type.Array(
          Type.Object({
            id: HexString,
            owner: HexString,
            versionCount: Type.Integer(),
            createdAt: Type.Integer(),
            erasedAt: Type.Union([Type.Integer(), Type.Null()]),
            grant: Type.Union([GrantJson, Type.Null()]),
          }),
        ),
      },
      handler: async ({ account, as }) => {
        const listed = await queries.listRecords(account, as ?? 'owner');
        const now = chain.head.header.time;
        return listed.map(({ record, grant }) => ({
          id: toHex(record.id),
          owner: toHex(record.owner),
          versionCount: record.versionCount,
          createdAt: record.createdAt,
          erasedAt: record.erasedAt,
          grant:
            grant === undefined
              ? null
              : {
                  grantee: toHex(grant.grantee),
                  granteeFingerprint: fingerprint(grant.grantee),
                  grantor: toHex(grant.grantor),
                  scope: [...grant.scope],
                  expiresAt: grant.expiresAt,
                  grantedAt: grant.grantedAt,
                  revokedAt: grant.revokedAt,
                  active: grant.revokedAt === null && (grant.expiresAt === null || grant.expiresAt > now),
                },
        }));
      },
    }),
    defineMethod({
      name: 'access_list',
      summary: 'Who holds (or held) access to a record: grantee, scope, expiry, revocation, and whether it holds now.',
      params: [{ name: 'recordId', schema: Hash32 }],
      result: { name: 'holders', schema: Type.Array(GrantJson) },
      handler: async ({ recordId }) =>
        (await queries.accessHolders(recordId)).map((h) => ({
          grantee: toHex(h.grantee),
          granteeFingerprint: fingerprint(h.grantee),
          grantor: toHex(h.grantor),
          scope: [...h.scope],
          expiresAt: h.expiresAt,
          grantedAt: h.grantedAt,
          revokedAt: h.revokedAt,
          active: h.active,
        })),
    }),
    defineMethod({
      name: 'audit_trail',
      summary: "Every transaction about a record, or about all of a patient's records: who, what, when, why, with inclusion proofs.",
      description: 'Also lists read attempts this node refused (they are never on chain).',
      params: [
        { name: 'subject', schema: Type.Union([Type.Literal('record'), Type.Literal('patient')]) },
        { name: 'id', schema: Hash32, description: 'the record id or the patient account' },
      ],
      result: {
        name: 'trail',
        schema: Type.Object({
          entries: Type.Array(AuditEntryJson),
          deniedReads: Type.Array(
            Type.Object({
              record: HexString,
              time: Type.Integer(),
              requester: HexString,
              version: Type.Integer(),
              purpose: Type.String(),
              emergency: Type.Boolean(),
              reason: Type.String(),
              code: Type.String(),
            }),
          ),
        }),
      },
      handler: async ({ subject, id }) => {
        const entries = subject === 'record' ? await queries.auditTrail(id) : await queries.patientTrail(id);
        const recordIds = subject === 'record' ? [id] : (await queries.listRecords(id, 'owner')).map((r) => r.record.id);
        const denied = (
          await Promise.all(recordIds.map(async (r) => (await queries.deniedReads(r)).map((d) => ({ ...d, record: r }))))
        ).flat();
        return {
          entries: entries.map(entryToJson),
          deniedReads: denied.map((d) => ({ ...d, record: toHex(d.record), requester: toHex(d.requester) })),
        };
      },
    }),
    defineMethod({
      name: 'audit_fhir',
      summary: "A patient's grants as FHIR R4 Consent resources and their records' trail as AuditEvent resources, in a Bundle.",
      params: [{ name: 'patient', schema: Hash32 }],
      result: { name: 'bundle', schema: Type.Object({ resourceType: Type.Literal('Bundle'), type: Type.Literal('collection'), entry: Type.Array(Type.Object({ resource: Type.Record(Type.String(), Type.Unknown()) })) }) },
      handler: async ({ patient }) => {
        const owned = await queries.listRecords(patient, 'owner');
        const consents = (await Promise.all(owned.map(async ({ record }) => (await queries.accessHolders(record.id)).map((h) => consentResource(patient, record.id, h))))).flat();
        const events = (await queries.patientTrail(patient)).map(auditEventResource);
        return { resourceType: 'Bundle' as const, type: 'collection' as const, entry: [...consents, ...events].map((resource) => ({ resource })) };
      },
    }),
  ];
}
