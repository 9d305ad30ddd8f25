import { describe, expect, it } from 'vitest';
import { toHex } from '../../../src/codec/bytes.ts';
import { compilePolicy, disassemble, NO_POLICY_FLAGS } from '../../../src/script/index.ts';
import { loadPolicyVectors, programOf, run } from './vectorSupport.ts';

const file = loadPolicyVectors();

describe('policy vectors (test/vectors/policy-vectors.json)', () => {
  it('has at least 150 uniquely named cases', () => {
    expect(file.cases.length).toBeGreaterThanOrEqual(150);
    expect(new Set(file.cases.map((c) => c.name)).size).toBe(file.cases.length);
  });

  it.each(file.cases.map((c) => [c.name, c] as const))('%s', (_name, v) => {
    const { compiled, program } = programOf(v);
    const expected = v.expect;
    if ('compileError' in expected) {
      expect(compiled?.ok).toBe(false);
      if (compiled === null || compiled.ok) return;
      expect({ code: compiled.error.code, line: compiled.error.line, column: compiled.error.column }).toEqual({
        code: expected.compileError,
        line: expected.line,
        column: expected.column,
      });
      expect(compiled.error.message.length).toBeGreaterThan(0);
      return;
    }
    if (compiled !== null && !compiled.ok) throw new Error(`does not compile: ${compiled.error.message}`);
    if (program === null) throw new Error('no program');
    if (v.program !== undefined) expect(toHex(program)).toBe(v.program);
    if (v.programSize !== undefined) expect(program.length).toBe(v.programSize);

    const decision = run(file, v, program);
    const actual: Record<string, unknown> = { decision: decision.decision };
    if (decision.decision === 'error') actual.code = decision.code;
    if (decision.decision === 'deny' && 'reason' in expected) actual.reason = decision.reason;
    if (decision.decision !== 'error' && 'rule' in expected) actual.rule = decision.rule;
    if (decision.decision === 'allow' && 'steps' in expected) actual.steps = decision.steps;
    expect(actual).toEqual(expected);
    // Same program, same context: same answer.
    expect(run(file, v, program)).toEqual(decision);

    // Every program that compiles (or is valid bytecode) disassembles to text that compiles back to the same bytes.
    if (compiled !== null || (decision.decision !== 'error' || decision.code === 'INVALID_CONTEXT')) {
      const text = disassemble(program);
      const again = compilePolicy(text, NO_POLICY_FLAGS);
      if (!again.ok) throw new Error(`disassembly does not compile: ${again.error.message}\n${text}`);
      expect(toHex(again.program)).toBe(toHex(program));
    }
  });
});
