/**
 * evaluatePolicy skips checkProgram for bytes equal to the last program that passed it under the same flags.
 * This holds it to the plain rule on seeded random sequences: every program that fails checkProgram under the
 * flags given is refused with exactly checkProgram's error, whatever passed before it, including the same
 * array changed in place after it passed and the same bytes under other flags.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkProgram } from '../../../src/script/checkProgram.ts';
import { compilePolicy } from '../../../src/script/compilePolicy.ts';
import { contextFromJson } from '../../../src/script/context.ts';
import { evaluatePolicy } from '../../../src/script/evaluatePolicy.ts';
import { CURRENT_POLICY_FLAGS, NO_POLICY_FLAGS, POLICY_FLAG_VERSIONS } from '../../../src/script/flags.ts';
import { POLICY_TEMPLATES } from '../../../src/script/templates.ts';

const requester = 'ab'.repeat(32);
const context = contextFromJson({
  requester,
  owner: 'cd'.repeat(32),
  action: 'read',
  height: 5,
  time: 1_000,
  roles: { [requester]: 'doctor' },
  attestations: { [requester]: [{ hospital: 'ef'.repeat(32), expiresAt: 2_000 }] },
  grants: { [requester]: { scope: ['read'] } },
});

function compiled(source: string, flags: number): Uint8Array {
  const result = compilePolicy(source, flags);
  if (!result.ok) throw new Error(`does not compile: ${result.error.message}`);
  return result.program;
}

/** Programs that pass, one that passes only without flags (no requester in its allow rule), and the rest. */
const programs: Uint8Array[] = [
  ...Object.values(POLICY_TEMPLATES).flatMap((t) => (t.program === null ? [] : [t.program])),
  compiled('allow read if purpose == "TREAT"\n', NO_POLICY_FLAGS),
  compiled('deny read if revoked(requester)\nallow read if granted(requester, action)\n', CURRENT_POLICY_FLAGS),
];

const stepArb = fc.record({
  program: fc.nat(programs.length - 1),
  flags: fc.constantFrom(...POLICY_FLAG_VERSIONS),
  // Change one byte of the program, in a fresh copy or in the array that was evaluated last.
  change: fc.option(fc.record({ at: fc.nat(200), to: fc.nat(255), inPlace: fc.boolean() }), { freq: 2 }),
});

describe('evaluatePolicy: the last checked program', () => {
  it('refuses every program that fails the check with exactly its error, whatever passed before', () => {
    let refusals = 0;
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 30 }), (steps) => {
        let last: Uint8Array = programs[0]!;
        for (const step of steps) {
          let program: Uint8Array = programs[step.program]!.slice();
          if (step.change !== null) {
            if (step.change.inPlace) program = last;
            program[step.change.at % program.length] = step.change.to;
          }
          const checked = checkProgram(program, step.flags);
          const decision = evaluatePolicy(program, context, step.flags);
          if (checked.ok) {
            expect(decision.decision).not.toBe('error');
          } else {
            refusals++;
            expect(decision).toEqual({ decision: 'error', code: checked.error.code, message: `${checked.error.message} (byte ${checked.error.offset})` });
          }
          last = program;
        }
      }),
      { seed: 0xc4ec, numRuns: 400 },
    );
    expect(refusals).toBeGreaterThan(200);
  });

  it('refuses bytes changed in place after they passed, and passed bytes under flags they fail', () => {
    const program = programs.at(-2)!.slice();
    expect(evaluatePolicy(program, context, NO_POLICY_FLAGS).decision).not.toBe('error');
    expect(evaluatePolicy(program, context, CURRENT_POLICY_FLAGS)).toMatchObject({ decision: 'error' });
    expect(evaluatePolicy(program, context, NO_POLICY_FLAGS).decision).not.toBe('error');
    // A rule header with no action bits: fails the check.
    program[1] = 0;
    expect(checkProgram(program, NO_POLICY_FLAGS).ok).toBe(false);
    expect(evaluatePolicy(program, context, NO_POLICY_FLAGS)).toMatchObject({ decision: 'error', code: 'BAD_RULE_HEADER' });
  });
});
