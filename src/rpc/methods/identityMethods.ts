import Type from 'typebox';
import { defineMethod, type RpcMethod } from '../method.ts';
import { toHex } from '../../codec/bytes.ts';
import { fingerprint } from '../../crypto/ed25519.ts';
import { getAccount, getAttestations, getHospitalName, getHospitals } from '../../state/accessors.ts';
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

/** identity_ methods. */
export function identityMethods(api: NodeApi): RpcMethod[] {
  const { chain } = api;
  return [
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
