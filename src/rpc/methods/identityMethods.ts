import Type from 'typebox';
import { defineMethod, type RpcMethod } from '../method.ts';
import { toHex } from '../../codec/bytes.ts';
import { fingerprint } from '../../crypto/ed25519.ts';
import { getAccount, getAttestation, getAttestations, getHospitalName, getHospitals } from '../../state/accessors.ts';
import { indexKey } from '../../chain/indexer.ts';
import { Hash32, HexString } from './json.ts';
import type { NodeApi } from './nodeApi.ts';

const AttestationJson = Type.Object({
  hospital: HexString,
  hospitalName: Type.String(),
  name: Type.String(),
  licence: Type.String(),
  expiresAt: Type.Integer({ description: 'ms since the epoch' }),
  attestedAt: Type.Integer({ description: 'height' }),
  revokedAt: Type.Union([Type.Integer(), Type.Null()]),
  revokeReason: Type.String(),
  valid: Type.Boolean({ description: 'neither revoked nor expired at the head block time' }),
});

const DoctorJson = Type.Object({
  id: HexString,
  fingerprint: Type.String(),
  name: Type.String({ description: 'as the hospital attested it' }),
  licence: Type.String(),
  hospital: HexString,
  hospitalName: Type.String(),
  expiresAt: Type.Integer({ description: 'ms since the epoch' }),
  revokedAt: Type.Union([Type.Integer(), Type.Null()]),
  valid: Type.Boolean({ description: 'neither revoked nor expired at the head block time' }),
});

/** Doctors searched or listed at most per call. */
const MAX_DOCTORS = 200;

/** identity_ methods. */
export function identityMethods(api: NodeApi): RpcMethod[] {
  const { chain } = api;

  /** Every (doctor, attestation) a hospital made, from the node's index and the head state. */
  async function attestedBy(hospital: Uint8Array): Promise<Type.Static<typeof DoctorJson>[]> {
    const state = chain.state;
    const headTime = chain.head.header.time;
    const out: Type.Static<typeof DoctorJson>[] = [];
    for await (const { key } of chain.store.readIndex(indexKey.attestedPrefix(hospital))) {
      const doctor = key.slice(1 + hospital.length);
      const a = getAttestation(state, doctor, hospital);
      if (a === undefined) continue;
      out.push({
        id: toHex(doctor),
        fingerprint: fingerprint(doctor),
        name: a.name,
        licence: a.licence,
        hospital: toHex(hospital),
        hospitalName: getHospitalName(state, hospital) ?? '',
        expiresAt: a.expiresAt,
        revokedAt: a.revokedAt,
        valid: a.revokedAt === null && a.expiresAt > headTime,
      });
    }
    return out;
  }

  return [
    defineMethod({
      name: 'identity_attestedBy',
      summary: 'Every doctor a hospital has attested, with the attestation as it stands at the head.',
      params: [{ name: 'hospital', schema: Hash32, description: "the hospital's public key" }],
      result: { name: 'doctors', schema: Type.Array(DoctorJson) },
      handler: ({ hospital }) => attestedBy(hospital),
    }),
    defineMethod({
      name: 'identity_findDoctors',
      summary: 'Doctors attested by this chain\'s hospitals whose name contains the query, or whose key or fingerprint starts with it.',
      description: 'For "share with a doctor": a patient finds the doctor by the name a hospital attested, or by the fingerprint the doctor reads out. Valid attestations first.',
      params: [
        { name: 'query', schema: Type.String({ minLength: 1, maxLength: 128 }), description: 'part of a name, or the start of a key or fingerprint' },
        { name: 'limit', schema: Type.Integer({ minimum: 1, maximum: MAX_DOCTORS }), required: false, description: `at most this many (default 20, at most ${MAX_DOCTORS})` },
      ],
      result: { name: 'doctors', schema: Type.Array(DoctorJson) },
      handler: async ({ query, limit }) => {
        const q = query.trim().toLowerCase();
        const key = q.replace(/[^0-9a-f]/g, '');
        const found: Type.Static<typeof DoctorJson>[] = [];
        for (const hospital of getHospitals(chain.state)) {
          for (const d of await attestedBy(hospital)) {
            const byName = d.name.toLowerCase().includes(q);
            // A fingerprint is the key's first 8 bytes in hex, dashed: both are a prefix of the hex id.
            const byKey = key.length >= 4 && d.id.startsWith(key);
            if (byName || byKey) found.push(d);
          }
        }
        found.sort((a, b) => Number(b.valid) - Number(a.valid) || a.name.localeCompare(b.name));
        return found.slice(0, limit ?? 20);
      },
    }),
    defineMethod({
      name: 'identity_hospitals',
      summary: 'The hospitals of this chain: ids and names (patients escrow break-glass keys to them).',
      params: [],
      result: { name: 'hospitals', schema: Type.Array(Type.Object({ id: HexString, name: Type.String(), fingerprint: Type.String() })) },
      handler: () =>
        getHospitals(chain.state).map((id) => ({ id: toHex(id), name: getHospitalName(chain.state, id) ?? '', fingerprint: fingerprint(id) })),
    }),
    defineMethod({
      name: 'identity_get',
      summary: "An account's role and nonce, a hospital's name, and a doctor's attestations; null if unregistered.",
      params: [{ name: 'accountId', schema: Hash32, description: 'the Ed25519 public key' }],
      result: {
        name: 'identity',
        schema: Type.Union([
          Type.Object({
            id: HexString,
            fingerprint: Type.String(),
            role: Type.String(),
            nonce: Type.Integer(),
            registeredAt: Type.Integer(),
            hospitalName: Type.Union([Type.String(), Type.Null()]),
            attestations: Type.Array(AttestationJson),
          }),
          Type.Null(),
        ]),
      },
      handler: ({ accountId }) => {
        const state = chain.state;
        const account = getAccount(state, accountId);
        if (account === undefined) return null;
        const headTime = chain.head.header.time;
        const attestations = getAttestations(state, accountId).map((a) => ({
          hospital: toHex(a.hospital),
          hospitalName: getHospitalName(state, a.hospital) ?? '',
          name: a.name,
          licence: a.licence,
          expiresAt: a.expiresAt,
          attestedAt: a.attestedAt,
          revokedAt: a.revokedAt,
          revokeReason: a.revokeReason,
          valid: a.revokedAt === null && a.expiresAt > headTime,
        }));
        return {
          id: toHex(accountId),
          fingerprint: fingerprint(accountId),
          role: account.role,
          nonce: account.nonce,
          registeredAt: account.registeredAt,
          hospitalName: getHospitalName(state, accountId) ?? null,
          attestations,
        };
      },
    }),
  ];
}
