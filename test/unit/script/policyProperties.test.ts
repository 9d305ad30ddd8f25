import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../../src/codec/bytes.ts';
import {
  checkProgram,
  compilePolicy,
  contextFromJson,
  CURRENT_POLICY_FLAGS,
  DEFAULT_POLICY,
  disassemble,
  evaluatePolicy,
  KNOWN_POLICY_FLAGS,
  MAX_PROGRAM_BYTES,
  MAX_STEPS,
  NO_POLICY_FLAGS,
  POLICY_ERROR_MESSAGES,
  POLICY_TEMPLATES,
  type PolicyContext,
  type PolicyDecision,
} from '../../../src/script/index.ts';
import { loadPolicyVectors } from './vectorSupport.ts';

const world = loadPolicyVectors().contexts.world!;
const IDS = ['aa', 'bb', 'cc', 'dd', 'ee', '11', '22', '33', '44', '55', '66'].map((b) => b.repeat(32));
const PURPOSES = ['', 'TREAT', 'ETREAT', 'HPAYMT', 'é€'];

// ----------------------------------------------------------------- random well-typed source
type Kind = 'bool' | 'int' | 'str' | 'id';

const idLiteral = fc.constantFrom(...IDS).map((id) => `0x${id}`);
const intLiteral = fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.maxSafeInteger(), fc.constant(-Number.MAX_SAFE_INTEGER)).map(String);
const strLiteral = fc
  .string({ unit: fc.constantFrom('a', 'B', '"', '\\', ' ', 'é', '€', '😀', '\uFEFF'), maxLength: 6 })
  .map((s) => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`);
const literal: Record<Kind, fc.Arbitrary<string>> = {
  bool: fc.constantFrom('true', 'false'),
  int: intLiteral,
  str: fc.oneof(strLiteral, fc.constantFrom('"read"', '"write"', '"doctor"', '"none"', '"ETREAT"')),
  id: idLiteral,
};
const variable: Record<Kind, fc.Arbitrary<string>> = {
  bool: fc.constant('emergency'),
  int: fc.constantFrom('height', 'time'),
  str: fc.constantFrom('action', 'purpose'),
  id: fc.constantFrom('requester', 'owner'),
};

/** Source of a random expression of `kind`; parentheses are sometimes dropped, so some outputs do not type-check. */
function expr(kind: Kind, depth: number): fc.Arbitrary<string> {
  const leaf = fc.oneof(literal[kind], variable[kind]);
  if (depth <= 0) return leaf;
  const sub = (k: Kind): fc.Arbitrary<string> => expr(k, depth - 1);
  const wrap = (a: fc.Arbitrary<string>): fc.Arbitrary<string> =>
    fc.tuple(a, fc.integer({ min: 0, max: 4 })).map(([text, p]) => (p === 0 ? text : `(${text})`));
  const anyKind = fc.constantFrom<Kind>('bool', 'int', 'str', 'id');
  const options: fc.Arbitrary<string>[] = [leaf];
  if (kind === 'bool') {
    options.push(
      sub('bool').map((a) => `not ${a}`),
      fc.tuple(sub('bool'), fc.constantFrom('and', 'or'), sub('bool')).map(([a, op, b]) => `${a} ${op} ${b}`),
      anyKind.chain((k) => fc.tuple(sub(k), fc.constantFrom('==', '!='), sub(k))).map(([a, op, b]) => `${a} ${op} ${b}`),
      fc.tuple(sub('int'), fc.constantFrom('<', '<=', '>', '>='), sub('int')).map(([a, op, b]) => `${a} ${op} ${b}`),
      anyKind.chain((k) => fc.tuple(sub(k), fc.array(literal[k], { minLength: 1, maxLength: 4 }))).map(([a, l]) => `${a} in [${l.join(', ')}]`),
      sub('id').map((a) => `attested(${a})`),
      fc.tuple(sub('id'), sub('id')).map(([a, b]) => `attested_by(${a}, ${b})`),
      fc.tuple(sub('id'), sub('str')).map(([a, b]) => `granted(${a}, ${b})`),
      fc.tuple(fc.constantFrom('expired', 'revoked'), sub('id')).map(([f, a]) => `${f}(${a})`),
    );
  } else if (kind === 'int') {
    options.push(fc.tuple(sub('int'), fc.constantFrom('+', '-'), sub('int')).map(([a, op, b]) => `${a} ${op} ${b}`));
  } else if (kind === 'str') {
    options.push(sub('id').map((a) => `role(${a})`));
  }
  return wrap(fc.oneof(...options));
}

const actions = fc.subarray(['read', 'write', 'delegate'], { minLength: 1 }).chain((a) => fc.shuffledSubarray(a, { minLength: a.length }));
const rule = fc.tuple(fc.constantFrom('allow', 'deny'), actions, expr('bool', 4)).map(([e, a, c]) => `${e} ${a.join(', ')} if ${c}`);
const policySource = fc.array(rule, { minLength: 1, maxLength: 5 }).map((rules) => rules.join('\n'));

/** Programs that compile (without flags): random sources that type-check, plus the templates. */
const validProgram = fc.oneof(
  { weight: 9, arbitrary: policySource.map((s) => compilePolicy(s, NO_POLICY_FLAGS)).filter((r) => r.ok).map((r) => (r.ok ? r.program : new Uint8Array())) },
  { weight: 1, arbitrary: fc.constantFrom(...Object.values(POLICY_TEMPLATES).flatMap((t) => (t.program ? [t.program] : []))) },
);

// ----------------------------------------------------------------- random bytes and mutations
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.nat(255) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.nat(255) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), byte: fc.constant(0) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(), byte: fc.constant(0) }),
);
type Mutation = { kind: 'set' | 'insert' | 'delete' | 'truncate'; at: number; byte: number };

function mutate(program: Uint8Array, mutations: Mutation[]): Uint8Array {
  let bytes = [...program];
  for (const m of mutations) {
    const at = bytes.length === 0 ? 0 : m.at % bytes.length;
    if (m.kind === 'set' && bytes.length > 0) bytes[at] = m.byte;
    else if (m.kind === 'insert') bytes.splice(at, 0, m.byte);
    else if (m.kind === 'delete') bytes.splice(at, 1);
    else if (m.kind === 'truncate') bytes = bytes.slice(0, at);
  }
  return Uint8Array.from(bytes);
}

const mutatedProgram = fc.tuple(validProgram, fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([p, m]) => mutate(p, m));
const randomBytes = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc.uint8Array({ maxLength: 200 }).map((b) => Uint8Array.from([1, ...b])),
  fc.uint8Array({ minLength: MAX_PROGRAM_BYTES - 2, maxLength: MAX_PROGRAM_BYTES + 2 }),
);
const anyBytes = fc.oneof(randomBytes, mutatedProgram);

// ----------------------------------------------------------------- random contexts
const contextJson = fc.record({
  requester: fc.constantFrom(...IDS),
  owner: fc.constantFrom(...IDS),
  action: fc.constantFrom('read', 'write', 'delegate'),
  height: fc.nat(2_000_000),
  time: fc.oneof(fc.integer({ min: 1_500_000_000_000, max: 1_900_000_000_000 }), fc.constant(Number.MAX_SAFE_INTEGER), fc.constant(0)),
  purpose: fc.constantFrom(...PURPOSES),
  emergency: fc.boolean(),
});
const context = contextJson.map((c) => contextFromJson({ ...world, ...c }));

function isWellFormed(d: PolicyDecision): boolean {
  switch (d.decision) {
    case 'allow':
      return Number.isInteger(d.rule) && d.steps >= 0 && d.steps <= MAX_STEPS;
    case 'deny':
      return typeof d.reason === 'string' && d.reason.length > 0 && d.steps >= 0 && d.steps <= MAX_STEPS;
    case 'error':
      return (
        d.code in invertedMessages() &&
        d.code !== 'INTERNAL_ERROR' &&
        d.message.startsWith(POLICY_ERROR_MESSAGES[d.code]) &&
        !d.message.includes(POLICY_ERROR_MESSAGES[d.code], 1)
      );
  }
}

let inverted: Record<string, true> | undefined;
function invertedMessages(): Record<string, true> {
  inverted ??= Object.fromEntries(Object.keys(POLICY_ERROR_MESSAGES).map((k) => [k, true as const]));
  return inverted;
}

const flags = fc.nat(KNOWN_POLICY_FLAGS);

describe('policy engine properties', () => {
  it('compile -> disassemble -> compile is the identity on bytecode', () => {
    let compiled = 0;
    fc.assert(
      fc.property(policySource, (source) => {
        const first = compilePolicy(source, NO_POLICY_FLAGS);
        if (!first.ok) return;
        compiled++;
        const text = disassemble(first.program);
        const second = compilePolicy(text, NO_POLICY_FLAGS);
        if (!second.ok) throw new Error(`${second.error.message}\n${text}`);
        expect(toHex(second.program)).toBe(toHex(first.program));
        // The disassembly is canonical: disassembling again gives the same text.
        expect(disassemble(second.program)).toBe(text);
      }),
      { seed: 42, numRuns: 1500 },
    );
    // The generator must mostly produce programs that compile, or this property proves little.
    expect(compiled).toBeGreaterThan(300);
  });

  it('any bytecode that passes checkProgram disassembles and compiles back to itself', () => {
    let valid = 0;
    fc.assert(
      fc.property(anyBytes, (bytes) => {
        const checked = checkProgram(bytes, NO_POLICY_FLAGS);
        if (!checked.ok) return;
        valid++;
        const again = compilePolicy(disassemble(bytes), NO_POLICY_FLAGS);
        if (!again.ok) throw new Error(again.error.message);
        expect(toHex(again.program)).toBe(toHex(bytes));
      }),
      { seed: 7, numRuns: 3000 },
    );
    expect(valid).toBeGreaterThan(50);
  });

  it('the evaluator never throws and always answers a well-formed decision, whatever the bytes', () => {
    fc.assert(
      fc.property(anyBytes, context, flags, (bytes, ctx, f) => {
        const decision = evaluatePolicy(bytes, ctx, f);
        expect(isWellFormed(decision)).toBe(true);
      }),
      { seed: 1234, numRuns: 3000 },
    );
  });

  it('checkProgram never throws, and a refusal names a known code and offset', () => {
    fc.assert(
      fc.property(anyBytes, flags, (bytes, f) => {
        const checked = checkProgram(bytes, f);
        if (!checked.ok) {
          expect(checked.error.code in POLICY_ERROR_MESSAGES).toBe(true);
          expect(checked.error.offset).toBeGreaterThanOrEqual(0);
        }
      }),
      { seed: 99, numRuns: 3000 },
    );
  });

  it('the same program and context always give the same answer', () => {
    fc.assert(
      fc.property(fc.oneof(validProgram, mutatedProgram), contextJson, flags, (program, json, f) => {
        const a = evaluatePolicy(program, contextFromJson({ ...world, ...json }), f);
        const b = evaluatePolicy(Uint8Array.from(program), contextFromJson({ ...world, ...json }), f);
        expect(b).toEqual(a);
      }),
      { seed: 2024, numRuns: 1500 },
    );
  });

  it('evaluation stops within the step budget, and costs only what the budget allows', () => {
    fc.assert(
      fc.property(validProgram, context, (program, ctx) => {
        const decision = evaluatePolicy(program, ctx, NO_POLICY_FLAGS);
        if (decision.decision === 'error') expect(['STEP_BUDGET_EXCEEDED', 'INTEGER_OVERFLOW']).toContain(decision.code);
        else expect(decision.steps).toBeLessThanOrEqual(MAX_STEPS);
      }),
      { seed: 5, numRuns: 1500 },
    );
  });

  it('flags only tighten: more flags never accept a program or allow a request that fewer flags refuse', () => {
    fc.assert(
      fc.property(validProgram, context, flags, flags, (program, ctx, a, b) => {
        const fewer = a & b;
        const more = a | b;
        if (checkProgram(program, more).ok) expect(checkProgram(program, fewer).ok).toBe(true);
        if (evaluatePolicy(program, ctx, more).decision === 'allow') {
          expect(evaluatePolicy(program, ctx, fewer)).toEqual(evaluatePolicy(program, ctx, more));
        }
      }),
      { seed: 77, numRuns: 1500 },
    );
  });

  it('a throwing or lying context is an error decision, never an exception', () => {
    const hostile: PolicyContext = {
      ...contextFromJson({ ...world }),
      roleOf: () => {
        throw new Error('store closed');
      },
      attestationsOf: () => 'not a list' as never,
      grantOf: () => ({ scope: ['everything'], expiresAt: -1, revoked: 'no' }) as never,
    };
    expect(evaluatePolicy(DEFAULT_POLICY, { ...hostile, requester: 'bb'.repeat(32) }, CURRENT_POLICY_FLAGS)).toMatchObject({
      decision: 'error',
      code: 'INVALID_CONTEXT',
    });
    const roleFirst = compilePolicy('allow read if role(requester) == "doctor"', NO_POLICY_FLAGS);
    expect(roleFirst.ok && evaluatePolicy(roleFirst.program, hostile, NO_POLICY_FLAGS)).toMatchObject({ decision: 'error', code: 'CONTEXT_FAILURE' });
    const attested = compilePolicy('allow read if attested(requester)', NO_POLICY_FLAGS);
    expect(attested.ok && evaluatePolicy(attested.program, hostile, NO_POLICY_FLAGS)).toMatchObject({ decision: 'error', code: 'INVALID_CONTEXT' });
    expect(evaluatePolicy(DEFAULT_POLICY, null as unknown as PolicyContext, NO_POLICY_FLAGS)).toMatchObject({ decision: 'error', code: 'INVALID_CONTEXT' });
    expect(evaluatePolicy('01' as unknown as Uint8Array, hostile, NO_POLICY_FLAGS)).toMatchObject({ decision: 'error', code: 'EMPTY_PROGRAM' });
  });
});
