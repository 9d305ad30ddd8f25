/**
 * Evaluations reuse value stacks. A context whose lookup evaluates another policy (a delegating context could)
 * must still get the same decisions as evaluations one after another: neither run may see the other's stack.
 */
import { describe, expect, it } from 'vitest';
import { compilePolicy } from '../../../src/script/compilePolicy.ts';
import { contextFromJson, type PolicyContext } from '../../../src/script/context.ts';
import { evaluatePolicy } from '../../../src/script/evaluatePolicy.ts';
import { CURRENT_POLICY_FLAGS } from '../../../src/script/flags.ts';

const requester = 'ab'.repeat(32);
const owner = 'cd'.repeat(32);
const hospital = 'ef'.repeat(32);

function compiled(source: string): Uint8Array {
  const result = compilePolicy(source, CURRENT_POLICY_FLAGS);
  if (!result.ok) throw new Error(`does not compile: ${result.error.message}`);
  return result.program;
}

const base = contextFromJson({
  requester,
  owner,
  action: 'read',
  height: 5,
  time: 1_000,
  roles: { [requester]: 'doctor' },
  attestations: { [requester]: [{ hospital, expiresAt: 2_000 }] },
  grants: { [requester]: { scope: ['read'] } },
});

// "doctor" waits on the stack while role() runs, and the inner program pushes its own values meanwhile.
const outer = compiled('allow read if "doctor" == role(requester) and attested(requester)\n');
const inner = compiled('deny read if revoked(requester)\nallow read if granted(requester, "read") and height + 1 == 6\n');

describe('evaluatePolicy inside a context lookup', () => {
  it('decides both policies as it does when they run one after the other', () => {
    const alone = { outer: evaluatePolicy(outer, base, CURRENT_POLICY_FLAGS), inner: evaluatePolicy(inner, base, CURRENT_POLICY_FLAGS) };
    expect(alone.outer.decision).toBe('allow');
    expect(alone.inner.decision).toBe('allow');

    const nested: ReturnType<typeof evaluatePolicy>[] = [];
    const delegating: PolicyContext = {
      ...base,
      roleOf: (id) => {
        nested.push(evaluatePolicy(inner, base, CURRENT_POLICY_FLAGS));
        return base.roleOf(id);
      },
      attestationsOf: (id) => base.attestationsOf(id),
      grantOf: (id) => base.grantOf(id),
    };
    for (let i = 0; i < 3; i++) expect(evaluatePolicy(outer, delegating, CURRENT_POLICY_FLAGS)).toEqual(alone.outer);
    expect(nested).toEqual([alone.inner, alone.inner, alone.inner]);
  });
});
