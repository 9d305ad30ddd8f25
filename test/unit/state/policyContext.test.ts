/**
 * The policy context reads chain state through shortcuts (the hospital list decoded once per stored value,
 * hospital hex kept per id, the requester's and owner's bytes reused instead of parsing their hex). This holds
 * decideAccess and getAttestations to the plain definitions on seeded random states: random hospital lists
 * (replaced mid-way by a block's write), roles, attestations, grants, policies and requests.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../src/codec/bytes.ts';
import { CURRENT_POLICY_FLAGS } from '../../../src/script/flags.ts';
import { evaluatePolicy, type PolicyContext } from '../../../src/script/index.ts';
import { compilePolicy } from '../../../src/script/compilePolicy.ts';
import { DEFAULT_POLICY, instantiatePolicyTemplate } from '../../../src/script/templates.ts';
import { getAccount, getAttestation, getAttestations, getGrant, getHospitals, putAccount, putAttestation, putGrant } from '../../../src/state/accessors.ts';
import { MemoryState, StateOverlay, type StateReader } from '../../../src/state/overlay.ts';
import { decideAccess, type AccessRequest, type DecisionPoint } from '../../../src/state/policyContext.ts';
import { stateKey } from '../../../src/state/stateKeys.ts';
import { decodeHospitalList, encodeHospitalList } from '../../../src/state/stateValues.ts';
import type { AccountId } from '../../../src/types/primitives.ts';
import type { RecordMeta } from '../../../src/types/record.ts';

/** The context as it was first written: every lookup parses its hex, every attestation list decoded afresh. */
function referenceContext(state: StateReader, record: RecordMeta, request: AccessRequest, at: DecisionPoint): PolicyContext {
  const id = (hex: string): Uint8Array => fromHex(hex) ?? new Uint8Array(0);
  const hospitals = (): AccountId[] => {
    const bytes = state.get(stateKey.hospitalList());
    return bytes === undefined ? [] : decodeHospitalList(bytes);
  };
  return {
    requester: toHex(request.requester),
    owner: toHex(record.owner),
    action: request.action,
    height: at.height,
    time: at.time,
    purpose: request.purpose,
    emergency: request.emergency,
    roleOf: (hex) => getAccount(state, id(hex))?.role ?? null,
    attestationsOf: (hex) =>
      hospitals()
        .flatMap((h) => getAttestation(state, id(hex), h) ?? [])
        .map((a) => ({ hospital: toHex(a.hospital), expiresAt: a.expiresAt, revoked: a.revokedAt !== null })),
    grantOf: (hex) => {
      const grant = getGrant(state, record.id, id(hex));
      return grant === undefined ? null : { scope: grant.scope, expiresAt: grant.expiresAt, revoked: grant.revokedAt !== null };
    },
  };
}

const T = 1_700_000_000_000;
const ids = Array.from({ length: 6 }, (_, i) => new Uint8Array(32).fill(0x10 + i));
const recordId = new Uint8Array(32).fill(0xab);

const worldArb = fc.record({
  hospitalLists: fc.array(fc.subarray([0, 1, 2, 3, 4, 5]), { minLength: 2, maxLength: 2 }),
  roles: fc.array(fc.constantFrom('patient', 'doctor', 'hospital', null), { minLength: 6, maxLength: 6 }),
  attestations: fc.array(
    fc.record({ doctor: fc.nat(5), hospital: fc.nat(5), expiresAt: fc.integer({ min: T - 10, max: T + 10 }), revoked: fc.boolean() }),
    { maxLength: 10 },
  ),
  grants: fc.array(
    fc.record({
      grantee: fc.nat(5),
      scope: fc.subarray(['read', 'write', 'delegate'] as const),
      expiresAt: fc.option(fc.integer({ min: T - 10, max: T + 10 })),
      revoked: fc.boolean(),
    }),
    { maxLength: 6 },
  ),
  policy: fc.constantFrom('default', 'emergency-access', 'hospital-doctors-0', 'hospital-doctors-3', 'roles'),
  owner: fc.nat(5),
  requests: fc.array(
    fc.record({ requester: fc.nat(5), action: fc.constantFrom('read', 'write', 'delegate' as const), purpose: fc.constantFrom('', 'TREAT', 'ETREAT'), emergency: fc.boolean() }),
    { minLength: 1, maxLength: 8 },
  ),
  time: fc.integer({ min: T - 12, max: T + 12 }),
});

/** Asks the roles of the owner and of a fixed id besides the requester's (the requester's may come from a hint). */
const ROLES_POLICY = (() => {
  const compiled = compilePolicy(
    `allow read if role(owner) == "patient" and role(requester) == "doctor"\nallow write if role(0x${toHex(ids[2]!)}) == "hospital" and role(requester) != "patient"\n`,
    CURRENT_POLICY_FLAGS,
  );
  if (!compiled.ok) throw new Error(`the roles policy does not compile: ${compiled.error.message}`);
  return compiled.program;
})();

function policyOf(name: string): Uint8Array {
  if (name === 'default') return DEFAULT_POLICY;
  if (name === 'roles') return ROLES_POLICY;
  const [template, hospital] = name.startsWith('hospital-doctors') ? ['hospital-doctors', Number(name.slice(-1))] : [name, -1];
  const compiled = instantiatePolicyTemplate(template, hospital >= 0 ? { hospital: toHex(ids[hospital]!) } : {});
  if (!compiled.ok) throw new Error(`template ${name} did not compile`);
  return compiled.program;
}

describe('policy context from state', () => {
  it('decides and lists attestations exactly as the plain definitions do', () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        const base = new MemoryState();
        base.apply([{ key: stateKey.hospitalList(), value: encodeHospitalList(w.hospitalLists[0]!.map((i) => ids[i]!)) }]);
        const state = new StateOverlay(base);
        w.roles.forEach((role, i) => {
          if (role !== null) putAccount(state, ids[i]!, { role, nonce: 0, registeredAt: 0 });
        });
        for (const a of w.attestations) {
          putAttestation(state, { doctor: ids[a.doctor]!, hospital: ids[a.hospital]!, name: 'Dr', licence: 'L', expiresAt: a.expiresAt, attestedAt: 1, revokedAt: a.revoked ? 2 : null, revokeReason: '' });
        }
        for (const g of w.grants) {
          putGrant(state, recordId, { grantee: ids[g.grantee]!, grantor: ids[w.owner]!, scope: g.scope, expiresAt: g.expiresAt, grantedAt: 1, revokedAt: g.revoked ? 2 : null });
        }
        const record: RecordMeta = { id: recordId, owner: ids[w.owner]!, policy: policyOf(w.policy), createdAt: 1, versionCount: 1, erasedAt: null };
        const at: DecisionPoint = { height: 5, time: w.time, policyFlags: CURRENT_POLICY_FLAGS };
        const check = (): void => {
          for (const r of w.requests) {
            const request: AccessRequest = { requester: ids[r.requester]!, action: r.action, purpose: r.purpose, emergency: r.emergency };
            const expected = evaluatePolicy(record.policy, referenceContext(state, record, request, at), at.policyFlags);
            expect(decideAccess(state, record, request, at)).toEqual(expected);
            // applyTx passes the role it read from the sender's account: the same decision.
            const role = getAccount(state, request.requester)?.role;
            if (role !== undefined) expect(decideAccess(state, record, { ...request, requesterRole: role }, at)).toEqual(expected);
            const hospitals = decodeHospitalList(state.get(stateKey.hospitalList())!);
            expect(getHospitals(state)).toEqual(hospitals);
            expect(getAttestations(state, ids[r.requester]!)).toEqual(hospitals.flatMap((h) => getAttestation(state, ids[r.requester]!, h) ?? []));
          }
        };
        check();
        // A block replaces the hospital list: the decoded list must follow the new value.
        state.set(stateKey.hospitalList(), encodeHospitalList(w.hospitalLists[1]!.map((i) => ids[i]!)));
        check();
      }),
      { seed: 0x9011c7, numRuns: 300 },
    );
  });

  it('getHospitals hands out a new array each call', () => {
    const base = new MemoryState();
    base.apply([{ key: stateKey.hospitalList(), value: encodeHospitalList([ids[0]!, ids[1]!]) }]);
    const first = getHospitals(base);
    first.pop();
    expect(getHospitals(base)).toHaveLength(2);
  });
});
