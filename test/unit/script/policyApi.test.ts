import { describe, expect, it } from 'vitest';
import { toHex } from '../../../src/codec/bytes.ts';
import {
  checkProgram,
  compilePolicy,
  contextFromJson,
  CURRENT_POLICY_FLAGS,
  DEFAULT_POLICY,
  DEFAULT_POLICY_SOURCE,
  disassemble,
  evaluatePolicy,
  instantiatePolicyTemplate,
  KNOWN_POLICY_FLAGS,
  NO_POLICY_FLAGS,
  POLICY_ERROR_MESSAGES,
  POLICY_FLAG_VERSIONS,
  POLICY_TEMPLATES,
  PolicyError,
  PolicyErrorCode,
  PolicyFlag,
  policyFlagNames,
  policyFlagsAtVersion,
  policyFlagsFromNames,
  type PolicyContext,
} from '../../../src/script/index.ts';

const PATIENT = 'aa'.repeat(32);
const DOCTOR = 'bb'.repeat(32);
const HOSPITAL = 'dd'.repeat(32);

describe('error codes', () => {
  it('every code is unique and has a message', () => {
    const codes = Object.values(PolicyErrorCode);
    expect(new Set(codes).size).toBe(codes.length);
    expect(Object.keys(POLICY_ERROR_MESSAGES).sort()).toEqual([...codes].sort());
    for (const code of codes) expect(POLICY_ERROR_MESSAGES[code].length).toBeGreaterThan(5);
  });

  it('compile errors say what was expected and where', () => {
    const result = compilePolicy('allow read if requester == owner\nallow write', NO_POLICY_FLAGS);
    expect(result).toEqual({
      ok: false,
      error: {
        code: 'UNEXPECTED_TOKEN',
        line: 2,
        column: 12,
        message: "unexpected token: expected ',' or 'if', found the end of the policy (line 2, column 12)",
      },
    });
  });
});

describe('flags', () => {
  it('versions only ever add flags, and the current set is the last version', () => {
    for (let v = 1; v < POLICY_FLAG_VERSIONS.length; v++) {
      const before = POLICY_FLAG_VERSIONS[v - 1]!;
      expect(POLICY_FLAG_VERSIONS[v]! & before).toBe(before);
    }
    expect(CURRENT_POLICY_FLAGS).toBe(POLICY_FLAG_VERSIONS.at(-1));
    expect(policyFlagsAtVersion(0)).toBe(NO_POLICY_FLAGS);
    expect(policyFlagsAtVersion(99)).toBeUndefined();
    expect(KNOWN_POLICY_FLAGS).toBe(PolicyFlag.RequesterBoundAllow | PolicyFlag.AttestedEmergency);
  });

  it('names round-trip and accept either spelling', () => {
    expect(policyFlagNames(CURRENT_POLICY_FLAGS)).toEqual(['RequesterBoundAllow', 'AttestedEmergency']);
    expect(policyFlagsFromNames(['REQUESTER_BOUND_ALLOW', 'attested-emergency'])).toBe(CURRENT_POLICY_FLAGS);
    expect(policyFlagsFromNames(['Bogus'])).toBeUndefined();
  });

  it('unknown or malformed flag values are refused', () => {
    for (const flags of [8, -1, 1.5, 2 ** 40, Number.NaN]) {
      const checked = checkProgram(DEFAULT_POLICY, flags);
      expect(checked.ok ? 'ok' : checked.error.code).toBe('UNKNOWN_FLAGS');
    }
    expect(compilePolicy(DEFAULT_POLICY_SOURCE, 16)).toMatchObject({ ok: false, error: { code: 'UNKNOWN_FLAGS' } });
  });
});

describe('templates', () => {
  it('every ready template compiles under the current flags and disassembles to its rules', () => {
    for (const template of Object.values(POLICY_TEMPLATES)) {
      if (template.program === null) {
        expect(template.params.length).toBeGreaterThan(0);
        continue;
      }
      expect(checkProgram(template.program, CURRENT_POLICY_FLAGS).ok).toBe(true);
      const rules = template.source.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
      expect(disassemble(template.program)).toBe(`${rules.join('\n')}\n`);
    }
  });

  it('the default policy is the owner-and-granted-doctors template', () => {
    expect(DEFAULT_POLICY_SOURCE).toBe(POLICY_TEMPLATES['owner-and-granted-doctors'].source);
    const compiled = compilePolicy(DEFAULT_POLICY_SOURCE);
    expect(compiled.ok && toHex(compiled.program)).toBe(toHex(DEFAULT_POLICY));
  });

  it('fills parameters with identities only', () => {
    const made = instantiatePolicyTemplate('hospital-doctors', { hospital: HOSPITAL });
    expect(made.ok).toBe(true);
    expect(made.source).toContain(`attested_by(requester, 0x${HOSPITAL})`);
    expect(() => instantiatePolicyTemplate('hospital-doctors', { hospital: `${HOSPITAL}) or (true` })).toThrow(PolicyError);
    expect(() => instantiatePolicyTemplate('hospital-doctors')).toThrow(/needs hospital/);
    expect(() => instantiatePolicyTemplate('owner-only', { hospital: HOSPITAL })).toThrow(/no parameter/);
    expect(() => instantiatePolicyTemplate('everyone')).toThrow(/no template/);
  });
});

describe('contextFromJson', () => {
  const base = { requester: DOCTOR, owner: PATIENT, action: 'read', height: 1, time: 2 };

  it('builds lookups with defaults for missing maps', () => {
    const ctx = contextFromJson({ ...base, grants: { [DOCTOR]: { scope: ['read'] } } });
    expect(ctx.purpose).toBe('');
    expect(ctx.emergency).toBe(false);
    expect(ctx.roleOf(DOCTOR)).toBeNull();
    expect(ctx.attestationsOf(DOCTOR)).toEqual([]);
    expect(ctx.grantOf(DOCTOR)).toEqual({ scope: ['read'], expiresAt: null, revoked: false });
    expect(ctx.grantOf(PATIENT)).toBeNull();
  });

  it('names the offending field', () => {
    const cases: [unknown, RegExp][] = [
      [null, /^invalid evaluation context: context: expected an object$/],
      [{ ...base, requester: 'AA'.repeat(32) }, /context\.requester: expected an identity/],
      [{ ...base, extra: 1 }, /context: unknown field "extra"/],
      [{ ...base, grants: { [DOCTOR]: { scope: ['read', 'own'] } } }, /context\.grants\.b+\.scope\[1\]: expected one of "read", "write", "delegate"/],
      [{ ...base, attestations: { [DOCTOR]: [{ hospital: HOSPITAL, expiresAt: 1e300 }] } }, /attestations\.b+\[0\]\.expiresAt/],
      [{ ...base, roles: { __proto__x: 'doctor' } }, /context\.roles key "__proto__x"/],
      [{ ...base, purpose: '\ud800' }, /context\.purpose/],
    ];
    for (const [json, message] of cases) {
      let caught: unknown;
      try {
        contextFromJson(json);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(PolicyError);
      expect((caught as PolicyError).code).toBe('INVALID_CONTEXT');
      expect((caught as PolicyError).message).toMatch(message);
    }
  });
});

describe('evaluatePolicy', () => {
  it('calls context lookups only when the program reaches them', () => {
    const calls: string[] = [];
    const ctx: PolicyContext = {
      requester: PATIENT,
      owner: PATIENT,
      action: 'read',
      height: 1,
      time: 2,
      purpose: '',
      emergency: false,
      roleOf: (id) => (calls.push(`roleOf ${id.slice(0, 2)}`), 'patient'),
      attestationsOf: (id) => (calls.push(`attestationsOf ${id.slice(0, 2)}`), []),
      grantOf: (id) => (calls.push(`grantOf ${id.slice(0, 2)}`), null),
    };
    expect(evaluatePolicy(DEFAULT_POLICY, ctx, CURRENT_POLICY_FLAGS)).toEqual({ decision: 'allow', rule: 1, steps: 4 });
    expect(calls).toEqual([]);
    expect(evaluatePolicy(DEFAULT_POLICY, { ...ctx, requester: DOCTOR }, CURRENT_POLICY_FLAGS).decision).toBe('deny');
    expect(calls).toEqual(['grantOf bb']);
    // Cheapest, most selective lookup first: a granted doctor costs the grant, then the role, then the attestations.
    calls.length = 0;
    const granted = { ...ctx, requester: DOCTOR, grantOf: (id: string) => (calls.push(`grantOf ${id.slice(0, 2)}`), { scope: ['read' as const], expiresAt: null, revoked: false }) };
    expect(evaluatePolicy(DEFAULT_POLICY, { ...granted, roleOf: (id: string) => (calls.push(`roleOf ${id.slice(0, 2)}`), 'doctor' as const) }, CURRENT_POLICY_FLAGS)).toMatchObject({
      decision: 'deny',
    });
    expect(calls).toEqual(['grantOf bb', 'roleOf bb', 'attestationsOf bb']);
  });

  it('reports invalid bytecode with the checker code and offset', () => {
    const ctx = contextFromJson({ requester: PATIENT, owner: PATIENT, action: 'read', height: 1, time: 2 });
    expect(evaluatePolicy(Uint8Array.of(1, 1, 1, 0x30), ctx, NO_POLICY_FLAGS)).toEqual({
      decision: 'error',
      code: 'STACK_UNDERFLOW',
      message: 'instruction needs more operands than the stack holds: needs 1 operand, has 0 (byte 3)',
    });
  });

  it('does not let a caller mutate the answer of another call', () => {
    const ctx = contextFromJson({ requester: PATIENT, owner: PATIENT, action: 'read', height: 1, time: 2 });
    const first = evaluatePolicy(DEFAULT_POLICY, ctx, CURRENT_POLICY_FLAGS);
    const second = evaluatePolicy(DEFAULT_POLICY, ctx, CURRENT_POLICY_FLAGS);
    expect(first).not.toBe(second);
    expect(first).toEqual(second);
  });
});

describe('checkProgram', () => {
  it('describes a valid program', () => {
    expect(checkProgram(DEFAULT_POLICY, CURRENT_POLICY_FLAGS)).toEqual({
      ok: true,
      info: { version: 1, bytes: 28, rules: 2, maxStackDepth: 2, maxNestingDepth: 5 },
    });
  });

  it('disassemble refuses invalid bytecode with a PolicyError', () => {
    expect(() => disassemble(Uint8Array.of(1))).toThrow(PolicyError);
    expect(() => disassemble(new Uint8Array())).toThrow(/program is empty/);
  });
});
