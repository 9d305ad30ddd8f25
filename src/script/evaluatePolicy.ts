import { checkProgram } from './checkProgram.ts';
import { IDENTITY_PATTERN, POLICY_ACTIONS, type PolicyAction, type PolicyContext } from './context.ts';
import { PolicyErrorCode, policyErrorMessage } from './errors.ts';
import type { PolicyFlags } from './flags.ts';
import { decodeLiteralUtf8 } from './literalText.ts';
import { MAX_STACK_DEPTH, MAX_STEPS, MAX_STRING_BYTES } from './limits.ts';
import { ACTION_BITS, IN_ELEMENT_COST, OPCODE_COSTS, Op, RULE_ACTION_MASK, RULE_COST, RULE_DENY_BIT } from './opcodes.ts';
import { varintLength } from './varint.ts';
import { bytesEqual, toHex, utf8 } from '../codec/bytes.ts';

/**
 * The answer to "may the requester do this?". Anything but `allow` is a
 * refusal; `error` says the program or context could not be evaluated (a limit
 * was hit, the bytecode is invalid, ...), identically on every node. `rule` is
 * the 1-based index of the deciding rule; `steps` the budget spent.
 */
export type PolicyDecision =
  | { readonly decision: 'allow'; readonly rule: number; readonly steps: number }
  | { readonly decision: 'deny'; readonly reason: string; readonly rule: number | null; readonly steps: number }
  | { readonly decision: 'error'; readonly code: PolicyErrorCode; readonly message: string };

type Value = boolean | number | string;

const RESULT_ERROR = -1;

/** What Machine.lookup returns when the context threw (no context returns a fresh symbol). */
const LOOKUP_FAILED: unique symbol = Symbol('lookup failed');

/** Value stacks of finished evaluations, reused by the next: allocating one per decision showed in GC. */
const spareStacks: Value[][] = [];
const MAX_SPARE_STACKS = 4;

// Firewall order: deny rules naming the action (program order), then allow
// rules; the first condition that holds decides, else "no rule allows
// <action>". `and`/`or` short-circuit left to right. See docs/policy-language.md.
/** Decides a request: checks `program` under `flags`, then runs it against `context`; pure, never throws. */
export function evaluatePolicy(program: Uint8Array, context: PolicyContext, flags: PolicyFlags): PolicyDecision {
  try {
    if (!passedLastCheck(program, flags)) {
      const checked = checkProgram(program, flags);
      if (!checked.ok) {
        return { decision: 'error', code: checked.error.code, message: `${checked.error.message} (byte ${checked.error.offset})` };
      }
      lastPassed = { program: program.slice(), flags };
    }
    const machine = Machine.create(program, context);
    if (!(machine instanceof Machine)) return machine;
    try {
      return machine.decide();
    } finally {
      machine.release();
    }
  } catch (error) {
    // Unreachable by design; turning an engine bug into a refusal keeps a node serving instead of crashing mid-block.
    return errorDecision(PolicyErrorCode.InternalError, describeThrown(error));
  }
}

/**
 * The last program that passed checkProgram, a copy, and its flags: records mostly share a template's bytecode,
 * so a block's decisions check the same bytes over and over. The check is a function of the bytes and flags
 * alone, so equal bytes under equal flags pass again; comparing them costs a fraction of checking.
 */
let lastPassed: { readonly program: Uint8Array; readonly flags: PolicyFlags } | undefined;

function passedLastCheck(program: Uint8Array, flags: PolicyFlags): boolean {
  return lastPassed !== undefined && flags === lastPassed.flags && bytesEqual(program, lastPassed.program);
}

function errorDecision(code: PolicyErrorCode, detail: string): PolicyDecision {
  return { decision: 'error', code, message: policyErrorMessage(code, detail) };
}

function describeThrown(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** One evaluation: validated context fields, the value stack and the step counter. */
class Machine {
  private readonly program: Uint8Array;
  private readonly context: PolicyContext;
  private readonly requester: string;
  private readonly owner: string;
  private readonly action: PolicyAction;
  private readonly height: number;
  private readonly time: number;
  private readonly purpose: string;
  private readonly emergency: boolean;
  // A spare stack when there is one: a block runs a decision per transaction, one after another.
  private readonly stack: Value[] = spareStacks.pop() ?? new Array<Value>(MAX_STACK_DEPTH).fill(false);
  private steps = 0;
  private failure: PolicyDecision | null = null;

  private constructor(program: Uint8Array, context: PolicyContext, fields: ContextFields) {
    this.program = program;
    this.context = context;
    this.requester = fields.requester;
    this.owner = fields.owner;
    this.action = fields.action;
    this.height = fields.height;
    this.time = fields.time;
    this.purpose = fields.purpose;
    this.emergency = fields.emergency;
  }

  static create(program: Uint8Array, context: PolicyContext): Machine | PolicyDecision {
    let fields: ContextFields | string;
    try {
      fields = readContextFields(context);
    } catch (error) {
      return errorDecision(PolicyErrorCode.ContextFailure, `reading the context threw ${describeThrown(error)}`);
    }
    if (typeof fields === 'string') return errorDecision(PolicyErrorCode.InvalidContext, fields);
    return new Machine(program, context, fields);
  }

  /** Hands the stack back for the next evaluation (a context that evaluates another policy gets its own). */
  release(): void {
    if (spareStacks.length < MAX_SPARE_STACKS) spareStacks.push(this.stack);
  }

  decide(): PolicyDecision {
    const bit = ACTION_BITS[this.action];
    // Deny rules first: a matching deny wins over any allow, as in a firewall.
    for (let pass = 0; pass < 2; pass++) {
      const wantDeny = pass === 0;
      const program = this.program;
      let pc = 1;
      let index = 0;
      while (pc < program.length) {
        const header = program[pc++]!;
        const length = readTrustedVarint(program, pc);
        pc += varintLength(length);
        index++;
        const isDeny = (header & RULE_DENY_BIT) !== 0;
        if (isDeny === wantDeny && (header & RULE_ACTION_MASK & bit) !== 0) {
          if (this.steps + RULE_COST > MAX_STEPS) return this.budgetExceeded();
          this.steps += RULE_COST;
          const result = this.run(pc, pc + length);
          if (result === RESULT_ERROR) return this.failure!;
          if (result === 1) {
            return isDeny
              ? { decision: 'deny', reason: `rule ${index} denies ${this.action}`, rule: index, steps: this.steps }
              : { decision: 'allow', rule: index, steps: this.steps };
          }
        }
        pc += length;
      }
    }
    return { decision: 'deny', reason: `no rule allows ${this.action}`, rule: null, steps: this.steps };
  }

  /** Evaluates one checked condition: 1 true, 0 false, RESULT_ERROR with this.failure set. */
  private run(start: number, end: number): number {
    const program = this.program;
    const stack = this.stack;
    let sp = 0;
    let pc = start;
    while (pc < end) {
      const op = program[pc++]!;
      const cost = op === Op.In ? OPCODE_COSTS[op]! + program[pc]! * IN_ELEMENT_COST : OPCODE_COSTS[op]!;
      if (this.steps + cost > MAX_STEPS) return this.fail(this.budgetExceeded());
      this.steps += cost;
      switch (op) {
        case Op.False:
          stack[sp++] = false;
          break;
        case Op.True:
          stack[sp++] = true;
          break;
        case Op.Int:
        case Op.NegInt: {
          const magnitude = readTrustedVarint(program, pc);
          pc += varintLength(magnitude);
          stack[sp++] = op === Op.NegInt ? -magnitude : magnitude;
          break;
        }
        case Op.Str: {
          const length = readTrustedVarint(program, pc);
          pc += varintLength(length);
          stack[sp++] = readString(program, pc, length);
          pc += length;
          break;
        }
        case Op.Id:
          stack[sp++] = toHex(program.subarray(pc, pc + 32));
          pc += 32;
          break;
        case Op.Requester:
          stack[sp++] = this.requester;
          break;
        case Op.Owner:
          stack[sp++] = this.owner;
          break;
        case Op.Action:
          stack[sp++] = this.action;
          break;
        case Op.Height:
          stack[sp++] = this.height;
          break;
        case Op.Time:
          stack[sp++] = this.time;
          break;
        case Op.Purpose:
          stack[sp++] = this.purpose;
          break;
        case Op.Emergency:
          stack[sp++] = this.emergency;
          break;
        case Op.Role: {
          const role = this.role(stack[sp - 1] as string);
          if (role === undefined) return RESULT_ERROR;
          stack[sp - 1] = role;
          break;
        }
        case Op.Attested:
        case Op.AttestedBy: {
          const hospital = op === Op.AttestedBy ? (stack[--sp] as string) : null;
          const attested = this.attested(stack[sp - 1] as string, hospital);
          if (attested === undefined) return RESULT_ERROR;
          stack[sp - 1] = attested;
          break;
        }
        case Op.Granted: {
          const scope = stack[--sp] as string;
          const granted = this.grantTest(stack[sp - 1] as string, op, scope);
          if (granted === undefined) return RESULT_ERROR;
          stack[sp - 1] = granted;
          break;
        }
        case Op.Expired:
        case Op.Revoked: {
          const result = this.grantTest(stack[sp - 1] as string, op, '');
          if (result === undefined) return RESULT_ERROR;
          stack[sp - 1] = result;
          break;
        }
        case Op.Not:
          stack[sp - 1] = stack[sp - 1] === false;
          break;
        case Op.And:
        case Op.Or: {
          const skip = readTrustedVarint(program, pc);
          pc += varintLength(skip);
          // Keep the deciding left operand and jump over the right one; otherwise drop it and run the right one.
          if (stack[sp - 1] === (op === Op.Or)) pc += skip;
          else sp--;
          break;
        }
        case Op.Eq:
        case Op.Ne: {
          const right = stack[--sp];
          stack[sp - 1] = (stack[sp - 1] === right) === (op === Op.Eq);
          break;
        }
        case Op.Lt:
        case Op.Le:
        case Op.Gt:
        case Op.Ge: {
          const right = stack[--sp] as number;
          const left = stack[sp - 1] as number;
          stack[sp - 1] = op === Op.Lt ? left < right : op === Op.Le ? left <= right : op === Op.Gt ? left > right : left >= right;
          break;
        }
        case Op.Add:
        case Op.Sub: {
          const right = stack[--sp] as number;
          const left = stack[sp - 1] as number;
          const result = op === Op.Add ? left + right : left - right;
          // Operands are safe integers, so an exact result outside the safe range always shows as unsafe here.
          if (!Number.isSafeInteger(result)) {
            return this.fail(errorDecision(PolicyErrorCode.IntegerOverflow, `${left} ${op === Op.Add ? '+' : '-'} ${right} is outside ±(2^53 - 1)`));
          }
          stack[sp - 1] = result;
          break;
        }
        case Op.In: {
          const count = program[pc++]!;
          const needle = stack[sp - 1]!;
          let found = false;
          for (let i = 0; i < count; i++) {
            const item = program[pc]!;
            const next = skipLiteral(program, pc);
            if (!found) found = literalEquals(program, pc, item, needle);
            pc = next;
          }
          stack[sp - 1] = found;
          break;
        }
        default:
          return this.fail(errorDecision(PolicyErrorCode.InternalError, `opcode 0x${op.toString(16)} passed the checker`));
      }
    }
    return stack[0] === true ? 1 : 0;
  }

  private fail(decision: PolicyDecision): number {
    this.failure = decision;
    return RESULT_ERROR;
  }

  private budgetExceeded(): PolicyDecision {
    return errorDecision(PolicyErrorCode.StepBudgetExceeded, `the budget is ${MAX_STEPS} steps`);
  }

  /** context[name](id), or LOOKUP_FAILED with this.failure set if it threw. */
  private lookup(name: 'roleOf' | 'attestationsOf' | 'grantOf', id: string): unknown {
    try {
      return this.context[name](id);
    } catch (error) {
      this.failure = errorDecision(PolicyErrorCode.ContextFailure, `${name}(${id}) threw ${describeThrown(error)}`);
      return LOOKUP_FAILED;
    }
  }

  private invalid(detail: string): undefined {
    this.failure = errorDecision(PolicyErrorCode.InvalidContext, detail);
    return undefined;
  }

  /** role(id): "patient", "doctor", "hospital" or "none". */
  private role(id: string): string | undefined {
    const role = this.lookup('roleOf', id);
    if (role === LOOKUP_FAILED) return undefined;
    if (role === null) return 'none';
    if (role === 'patient' || role === 'doctor' || role === 'hospital') return role;
    return this.invalid(`roleOf(${id}) returned ${describeValue(role)}`);
  }

  /** attested(id) / attested_by(id, hospital): an attestation that is not revoked and not yet expired (time < expiresAt). */
  private attested(id: string, hospital: string | null): boolean | undefined {
    const list = this.lookup('attestationsOf', id);
    if (list === LOOKUP_FAILED) return undefined;
    if (!Array.isArray(list)) return this.invalid(`attestationsOf(${id}) returned ${describeValue(list)}`);
    let result = false;
    for (const item of list as unknown[]) {
      if (!isAttestation(item)) return this.invalid(`attestationsOf(${id}) returned a malformed attestation`);
      if (!item.revoked && this.time < item.expiresAt && (hospital === null || item.hospital === hospital)) result = true;
    }
    return result;
  }

  /** granted(id, scope), expired(id) and revoked(id), all read from grantOf(id). */
  private grantTest(id: string, op: number, scope: string): boolean | undefined {
    const grant = this.lookup('grantOf', id);
    if (grant === LOOKUP_FAILED) return undefined;
    if (grant === null) return false;
    if (!isGrant(grant)) return this.invalid(`grantOf(${id}) returned a malformed grant`);
    const expired = grant.expiresAt !== null && this.time >= grant.expiresAt;
    if (op === Op.Expired) return expired;
    if (op === Op.Revoked) return grant.revoked;
    return !grant.revoked && !expired && (grant.scope as readonly string[]).includes(scope);
  }
}

interface ContextFields {
  requester: string;
  owner: string;
  action: PolicyAction;
  height: number;
  time: number;
  purpose: string;
  emergency: boolean;
}

/** The plain fields of a context, or a description of the first invalid one. */
function readContextFields(context: PolicyContext): ContextFields | string {
  if (typeof context !== 'object' || context === null) return 'the context is not an object';
  const { requester, owner, action, height, time, purpose, emergency } = context;
  if (typeof requester !== 'string' || !IDENTITY_PATTERN.test(requester)) return 'requester must be 64 lowercase hex digits';
  if (typeof owner !== 'string' || !IDENTITY_PATTERN.test(owner)) return 'owner must be 64 lowercase hex digits';
  if (!(POLICY_ACTIONS as readonly unknown[]).includes(action)) return 'action must be "read", "write" or "delegate"';
  if (!isNonNegativeSafeInteger(height)) return 'height must be an integer from 0 to 2^53 - 1';
  if (!isNonNegativeSafeInteger(time)) return 'time must be an integer from 0 to 2^53 - 1';
  if (typeof purpose !== 'string' || !purpose.isWellFormed() || (purpose.length * 3 > MAX_STRING_BYTES && utf8(purpose).length > MAX_STRING_BYTES)) {
    return `purpose must be well-formed text of at most ${MAX_STRING_BYTES} UTF-8 bytes`;
  }
  if (typeof emergency !== 'boolean') return 'emergency must be true or false';
  for (const name of ['roleOf', 'attestationsOf', 'grantOf'] as const) {
    if (typeof context[name] !== 'function') return `${name} must be a function`;
  }
  return { requester, owner, action, height, time, purpose, emergency };
}

function isNonNegativeSafeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isAttestation(value: unknown): value is { hospital: string; expiresAt: number; revoked: boolean } {
  if (typeof value !== 'object' || value === null) return false;
  const a = value as Record<string, unknown>;
  return typeof a.hospital === 'string' && IDENTITY_PATTERN.test(a.hospital) && isNonNegativeSafeInteger(a.expiresAt) && typeof a.revoked === 'boolean';
}

function isGrant(value: unknown): value is { scope: readonly PolicyAction[]; expiresAt: number | null; revoked: boolean } {
  if (typeof value !== 'object' || value === null) return false;
  const g = value as Record<string, unknown>;
  return (
    Array.isArray(g.scope) &&
    g.scope.every((s: unknown) => (POLICY_ACTIONS as readonly unknown[]).includes(s)) &&
    (g.expiresAt === null || isNonNegativeSafeInteger(g.expiresAt)) &&
    typeof g.revoked === 'boolean'
  );
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : String(value);
}

/** Varint of checked bytecode: shortest form and in range are already guaranteed. */
function readTrustedVarint(program: Uint8Array, pc: number): number {
  let value = 0;
  let scale = 1;
  for (;;) {
    const b = program[pc++]!;
    value += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return value;
    scale *= 128;
  }
}

function readString(program: Uint8Array, start: number, length: number): string {
  let ascii = '';
  for (let i = start; i < start + length; i++) {
    const b = program[i]!;
    if (b >= 0x80) return decodeLiteralUtf8(program, start, start + length)!;
    ascii += String.fromCharCode(b);
  }
  return ascii;
}

/** Offset after the literal instruction at `pc`. */
function skipLiteral(program: Uint8Array, pc: number): number {
  switch (program[pc]) {
    case Op.Int:
    case Op.NegInt:
      return pc + 1 + varintLength(readTrustedVarint(program, pc + 1));
    case Op.Str: {
      const length = readTrustedVarint(program, pc + 1);
      return pc + 1 + varintLength(length) + length;
    }
    case Op.Id:
      return pc + 33;
    default:
      return pc + 1;
  }
}

/** Whether the literal instruction at `pc` equals `needle` (the checker made their types equal). */
function literalEquals(program: Uint8Array, pc: number, op: number, needle: Value): boolean {
  switch (op) {
    case Op.False:
      return needle === false;
    case Op.True:
      return needle === true;
    case Op.Int:
      return needle === readTrustedVarint(program, pc + 1);
    case Op.NegInt:
      return needle === -readTrustedVarint(program, pc + 1);
    case Op.Str: {
      const length = readTrustedVarint(program, pc + 1);
      const start = pc + 1 + varintLength(length);
      return needle === readString(program, start, length);
    }
    default:
      return hexEqualsBytes(needle as string, program, pc + 1);
  }
}

const HEX_DIGITS = '0123456789abcdef';

/** Compares a lowercase hex identity with 32 raw bytes without allocating. */
function hexEqualsBytes(hex: string, bytes: Uint8Array, offset: number): boolean {
  for (let i = 0; i < 32; i++) {
    const b = bytes[offset + i]!;
    if (hex.charCodeAt(2 * i) !== HEX_DIGITS.charCodeAt(b >> 4) || hex.charCodeAt(2 * i + 1) !== HEX_DIGITS.charCodeAt(b & 15)) return false;
  }
  return true;
}
