import { PolicyErrorCode, policyErrorMessage } from './errors.ts';
import { KNOWN_POLICY_FLAGS, PolicyFlag, type PolicyFlags } from './flags.ts';
import { decodeLiteralUtf8 } from './literalText.ts';
import {
  MAX_LIST_LENGTH,
  MAX_NESTING_DEPTH,
  MAX_PROGRAM_BYTES,
  MAX_RULES,
  MAX_STACK_DEPTH,
  MAX_STRING_BYTES,
  POLICY_FORMAT_VERSION,
} from './limits.ts';
import { Op, RULE_ACTION_MASK, RULE_DENY_BIT, VALUE_TYPE_NAMES, ValueType } from './opcodes.ts';
import { readVarint, VARINT_NON_CANONICAL, VARINT_TRUNCATED, varintLength } from './varint.ts';

/** What checkProgram learnt about a valid program. */
export interface ProgramInfo {
  readonly version: number;
  readonly bytes: number;
  readonly rules: number;
  readonly maxStackDepth: number;
  readonly maxNestingDepth: number;
}

/** Why bytecode was refused: the code, a message, and the byte offset of the offending instruction. */
export interface ProgramCheckError {
  readonly code: PolicyErrorCode;
  readonly message: string;
  readonly offset: number;
}

export type ProgramCheckResult = { readonly ok: true; readonly info: ProgramInfo } | { readonly ok: false; readonly error: ProgramCheckError };

// Facts about each stack slot that the flag rules need, computed bottom-up in one pass.
const P_REQUESTER_LEAF = 1;
const P_MENTIONS_REQUESTER = 2;
const P_MENTIONS_EMERGENCY = 4;
const P_ATTESTS_REQUESTER = 8;
const P_AND_CHAIN_ATTESTS = 16;
const P_ALTERNATIVES_BOUND = 32;
const P_ALTERNATIVES_ATTESTED = 64;
const MENTIONS = P_MENTIONS_REQUESTER | P_MENTIONS_EMERGENCY;

/** Props of any node that is not `and`/`or`: it is a single alternative and a single conjunct. */
function plainProps(mentions: number, attestsRequester: boolean): number {
  let p = mentions & MENTIONS;
  if (attestsRequester) p |= P_ATTESTS_REQUESTER | P_AND_CHAIN_ATTESTS;
  return finishAlternative(p);
}

function finishAlternative(p: number): number {
  if ((p & P_MENTIONS_REQUESTER) !== 0) p |= P_ALTERNATIVES_BOUND;
  if ((p & P_MENTIONS_EMERGENCY) === 0 || (p & P_AND_CHAIN_ATTESTS) !== 0) p |= P_ALTERNATIVES_ATTESTED;
  return p;
}

function logicProps(isOr: boolean, left: number, right: number): number {
  const mentions = (left | right) & MENTIONS;
  if (isOr) return mentions | (left & right & (P_ALTERNATIVES_BOUND | P_ALTERNATIVES_ATTESTED));
  return finishAlternative(mentions | ((left | right) & P_AND_CHAIN_ATTESTS));
}

class CheckFailure {
  readonly code: PolicyErrorCode;
  readonly offset: number;
  readonly detail: string;
  constructor(code: PolicyErrorCode, offset: number, detail: string) {
    this.code = code;
    this.offset = offset;
    this.detail = detail;
  }
}

/**
 * Validates bytecode completely before anything runs it: format, limits,
 * canonical encoding, static types, stack discipline, and the rules of `flags`.
 * Never throws. A program that passes can be evaluated without further checks.
 */
export function checkProgram(program: Uint8Array, flags: PolicyFlags): ProgramCheckResult {
  const failure = checkFlags(flags) ?? checkBytes(program);
  if (failure instanceof CheckFailure) return fail(failure);
  const checker = SCRATCH;
  checker.reset(program, flags);
  let pc = 1;
  let rules = 0;
  const n = program.length;
  while (pc < n) {
    const headerOffset = pc;
    const header = program[pc++]!;
    // [REJECT] A rule header names at least one action and has no reserved bits set.
    if ((header & ~(RULE_DENY_BIT | RULE_ACTION_MASK)) !== 0 || (header & RULE_ACTION_MASK) === 0) {
      return fail(new CheckFailure(PolicyErrorCode.BadRuleHeader, headerOffset, `header byte 0x${header.toString(16).padStart(2, '0')}`));
    }
    if (++rules > MAX_RULES) {
      return fail(new CheckFailure(PolicyErrorCode.TooManyRules, headerOffset, `the limit is ${MAX_RULES} rules`));
    }
    const length = readVarint(program, pc, n);
    if (length < 0) return fail(varintFailure(length, pc, 'rule length'));
    pc += varintLength(length);
    if (length === 0) return fail(new CheckFailure(PolicyErrorCode.BadExpression, headerOffset, 'the condition is empty'));
    if (pc + length > n) return fail(new CheckFailure(PolicyErrorCode.Truncated, headerOffset, `rule needs ${length} bytes, ${n - pc} left`));
    const ruleFailure = checker.check(pc, pc + length, (header & RULE_DENY_BIT) === 0, headerOffset);
    if (ruleFailure !== undefined) return fail(ruleFailure);
    pc += length;
  }
  if (rules === 0) return fail(new CheckFailure(PolicyErrorCode.NoRules, 1, 'the program has a version byte and nothing else'));
  return {
    ok: true,
    info: { version: POLICY_FORMAT_VERSION, bytes: n, rules, maxStackDepth: checker.maxDepth, maxNestingDepth: checker.maxHeight },
  };
}

function checkFlags(flags: PolicyFlags): CheckFailure | undefined {
  if (typeof flags !== 'number' || !Number.isInteger(flags) || flags < 0 || flags > 0x7fffffff || (flags & ~KNOWN_POLICY_FLAGS) !== 0) {
    return new CheckFailure(PolicyErrorCode.UnknownFlags, 0, `got ${String(flags)}, known bits are 0x${KNOWN_POLICY_FLAGS.toString(16)}`);
  }
  return undefined;
}

function checkBytes(program: Uint8Array): CheckFailure | undefined {
  if (!(program instanceof Uint8Array)) return new CheckFailure(PolicyErrorCode.EmptyProgram, 0, 'not a byte array');
  // [REJECT] Size first, so an oversized program costs nothing more to refuse.
  if (program.length > MAX_PROGRAM_BYTES) {
    return new CheckFailure(PolicyErrorCode.ProgramTooLarge, MAX_PROGRAM_BYTES, `${program.length} bytes; the limit is ${MAX_PROGRAM_BYTES}`);
  }
  if (program.length === 0) return new CheckFailure(PolicyErrorCode.EmptyProgram, 0, '');
  if (program[0] !== POLICY_FORMAT_VERSION) {
    return new CheckFailure(PolicyErrorCode.UnsupportedVersion, 0, `version ${program[0]}; this engine reads version ${POLICY_FORMAT_VERSION}`);
  }
  return undefined;
}

function fail(failure: CheckFailure): ProgramCheckResult {
  return { ok: false, error: { code: failure.code, message: policyErrorMessage(failure.code, failure.detail), offset: failure.offset } };
}

function varintFailure(code: number, offset: number, what: string): CheckFailure {
  if (code === VARINT_TRUNCATED) return new CheckFailure(PolicyErrorCode.Truncated, offset, `${what} is cut off`);
  if (code === VARINT_NON_CANONICAL) return new CheckFailure(PolicyErrorCode.NonCanonical, offset, `${what} is not in shortest form`);
  return new CheckFailure(PolicyErrorCode.IntegerOutOfRange, offset, `${what} is above 2^53 - 1`);
}

/**
 * Type, height and props stacks for one rule condition. One instance serves
 * every call: allocating its typed arrays cost more than the whole check, and
 * checkProgram is synchronous and never calls out, so it cannot be re-entered.
 */
class ExpressionChecker {
  private program: Uint8Array = new Uint8Array(0);
  private flags: PolicyFlags = 0;
  private readonly types = new Uint8Array(MAX_STACK_DEPTH + 1);
  private readonly heights = new Uint8Array(MAX_STACK_DEPTH + 1);
  private readonly props = new Uint8Array(MAX_STACK_DEPTH + 1);
  // Open `and`/`or` frames: where the right operand ends, and the left operand's facts.
  private readonly frameTarget = new Int32Array(MAX_NESTING_DEPTH + 1);
  private readonly frameDepth = new Uint8Array(MAX_NESTING_DEPTH + 1);
  private readonly frameHeight = new Uint8Array(MAX_NESTING_DEPTH + 1);
  private readonly frameProps = new Uint8Array(MAX_NESTING_DEPTH + 1);
  private readonly frameIsOr = new Uint8Array(MAX_NESTING_DEPTH + 1);
  private readonly frameOffset = new Int32Array(MAX_NESTING_DEPTH + 1);
  private depth = 0;
  private floor = 0;
  private frames = 0;
  maxDepth = 0;
  maxHeight = 0;

  reset(program: Uint8Array, flags: PolicyFlags): void {
    this.program = program;
    this.flags = flags;
    this.maxDepth = 0;
    this.maxHeight = 0;
  }

  check(start: number, end: number, isAllow: boolean, headerOffset: number): CheckFailure | undefined {
    this.depth = 0;
    this.floor = 0;
    this.frames = 0;
    const program = this.program;
    let pc = start;
    while (pc < end) {
      const at = pc;
      const op = program[pc++]!;
      switch (op) {
        case Op.False:
        case Op.True:
        case Op.Int:
        case Op.NegInt:
        case Op.Str:
        case Op.Id: {
          const next = this.literal(op, pc, end, at);
          if (next instanceof CheckFailure) return next;
          pc = next;
          const failure = this.push(literalType(op) as ValueType, 1, plainProps(0, false), at);
          if (failure) return failure;
          break;
        }
        case Op.Requester:
        case Op.Owner: {
          const p = op === Op.Requester ? plainProps(P_MENTIONS_REQUESTER, false) | P_REQUESTER_LEAF : plainProps(0, false);
          const failure = this.push(ValueType.Id, 1, p, at);
          if (failure) return failure;
          break;
        }
        case Op.Action:
        case Op.Purpose: {
          const failure = this.push(ValueType.Str, 1, plainProps(0, false), at);
          if (failure) return failure;
          break;
        }
        case Op.Height:
        case Op.Time: {
          const failure = this.push(ValueType.Int, 1, plainProps(0, false), at);
          if (failure) return failure;
          break;
        }
        case Op.Emergency: {
          const failure = this.push(ValueType.Bool, 1, plainProps(P_MENTIONS_EMERGENCY, false), at);
          if (failure) return failure;
          break;
        }
        case Op.Role:
        case Op.Attested:
        case Op.Expired:
        case Op.Revoked:
        case Op.Not: {
          const failure = this.operands(1, at) ?? this.expect(0, op === Op.Not ? ValueType.Bool : ValueType.Id, at);
          if (failure) return failure;
          const top = this.depth - 1;
          const attests = op === Op.Attested && (this.props[top]! & P_REQUESTER_LEAF) !== 0;
          const result = op === Op.Role ? ValueType.Str : ValueType.Bool;
          const replaced = this.replace(1, result, this.heights[top]!, plainProps(this.props[top]!, attests), at);
          if (replaced) return replaced;
          break;
        }
        case Op.AttestedBy:
        case Op.Granted:
        case Op.Eq:
        case Op.Ne:
        case Op.Lt:
        case Op.Le:
        case Op.Gt:
        case Op.Ge:
        case Op.Add:
        case Op.Sub: {
          const failure = this.operands(2, at) ?? this.binaryTypes(op, at);
          if (failure) return failure;
          const l = this.depth - 2;
          const r = this.depth - 1;
          const attests = op === Op.AttestedBy && (this.props[l]! & P_REQUESTER_LEAF) !== 0;
          const result = op === Op.Add || op === Op.Sub ? ValueType.Int : ValueType.Bool;
          const height = Math.max(this.heights[l]!, this.heights[r]!);
          const replaced = this.replace(2, result, height, plainProps(this.props[l]! | this.props[r]!, attests), at);
          if (replaced) return replaced;
          break;
        }
        case Op.And:
        case Op.Or: {
          const failure = this.operands(1, at) ?? this.expect(0, ValueType.Bool, at);
          if (failure) return failure;
          const skip = readVarint(program, pc, end);
          if (skip < 0) return varintFailure(skip, pc, 'skip length');
          pc += varintLength(skip);
          const target = pc + skip;
          // [REJECT] The skip covers a non-empty right operand that lies inside the rule and inside any enclosing operand.
          if (skip === 0 || target > end || (this.frames > 0 && target > this.frameTarget[this.frames - 1]!)) {
            return new CheckFailure(PolicyErrorCode.BadJump, at, `skip of ${skip} bytes leaves the enclosing expression`);
          }
          if (this.frames > MAX_NESTING_DEPTH - 1) {
            return new CheckFailure(PolicyErrorCode.NestingTooDeep, at, `more than ${MAX_NESTING_DEPTH} levels`);
          }
          const f = this.frames++;
          const top = this.depth - 1;
          this.frameTarget[f] = target;
          this.frameDepth[f] = this.depth;
          this.frameHeight[f] = this.heights[top]!;
          this.frameProps[f] = this.props[top]!;
          this.frameIsOr[f] = op === Op.Or ? 1 : 0;
          this.frameOffset[f] = at;
          // On the fall-through path the left operand is popped before the right one runs.
          this.depth--;
          this.floor = this.depth;
          break;
        }
        case Op.In: {
          const failure = this.operands(1, at);
          if (failure) return failure;
          const next = this.list(pc, end, at);
          if (next instanceof CheckFailure) return next;
          pc = next;
          const top = this.depth - 1;
          const replaced = this.replace(1, ValueType.Bool, this.heights[top]!, plainProps(this.props[top]!, false), at);
          if (replaced) return replaced;
          break;
        }
        default:
          return new CheckFailure(PolicyErrorCode.UnknownOpcode, at, `byte 0x${op.toString(16).padStart(2, '0')}`);
      }
      const resolved = this.resolveFrames(pc);
      if (resolved) return resolved;
    }
    // [REJECT] A condition is exactly one boolean expression.
    if (this.depth !== 1 || this.types[0] !== ValueType.Bool) {
      const found = this.depth === 1 ? VALUE_TYPE_NAMES[this.types[0] as ValueType] : `${this.depth} values`;
      return new CheckFailure(PolicyErrorCode.BadExpression, start, `found ${found}`);
    }
    if (isAllow) return this.checkFlagRules(this.props[0]!, headerOffset);
    return undefined;
  }

  private checkFlagRules(p: number, headerOffset: number): CheckFailure | undefined {
    if ((this.flags & PolicyFlag.RequesterBoundAllow) !== 0 && (p & P_ALTERNATIVES_BOUND) === 0) {
      return new CheckFailure(PolicyErrorCode.AllowWithoutRequester, headerOffset, 'such a rule would let anyone in');
    }
    if ((this.flags & PolicyFlag.AttestedEmergency) !== 0 && (p & P_ALTERNATIVES_ATTESTED) === 0) {
      return new CheckFailure(PolicyErrorCode.UnattestedEmergency, headerOffset, 'break-glass access needs an attested clinician');
    }
    return undefined;
  }

  /** Closes every `and`/`or` whose right operand ends at `pc`, innermost first. */
  private resolveFrames(pc: number): CheckFailure | undefined {
    while (this.frames > 0 && this.frameTarget[this.frames - 1]! <= pc) {
      const f = this.frames - 1;
      const at = this.frameOffset[f]!;
      // [REJECT] The skip lands exactly on an instruction boundary, after one complete right operand.
      if (this.frameTarget[f]! < pc) return new CheckFailure(PolicyErrorCode.BadJump, at, 'skip lands inside an instruction');
      if (this.depth !== this.frameDepth[f]!) return new CheckFailure(PolicyErrorCode.BadJump, at, 'the right operand is not one expression');
      const top = this.depth - 1;
      if (this.types[top] !== ValueType.Bool) {
        return new CheckFailure(PolicyErrorCode.TypeMismatch, at, `the right operand of and/or is ${VALUE_TYPE_NAMES[this.types[top] as ValueType]}`);
      }
      const height = Math.max(this.frameHeight[f]!, this.heights[top]!) + 1;
      if (height > MAX_NESTING_DEPTH) return new CheckFailure(PolicyErrorCode.NestingTooDeep, at, `more than ${MAX_NESTING_DEPTH} levels`);
      this.heights[top] = height;
      this.maxHeight = Math.max(this.maxHeight, height);
      this.props[top] = logicProps(this.frameIsOr[f] === 1, this.frameProps[f]!, this.props[top]!);
      this.frames--;
      this.floor = this.frames > 0 ? this.frameDepth[this.frames - 1]! - 1 : 0;
    }
    return undefined;
  }

  private push(type: ValueType, height: number, props: number, at: number): CheckFailure | undefined {
    if (this.depth >= MAX_STACK_DEPTH) {
      return new CheckFailure(PolicyErrorCode.StackOverflow, at, `more than ${MAX_STACK_DEPTH} values`);
    }
    this.types[this.depth] = type;
    this.heights[this.depth] = height;
    this.props[this.depth] = props;
    this.depth++;
    this.maxDepth = Math.max(this.maxDepth, this.depth);
    this.maxHeight = Math.max(this.maxHeight, height);
    return undefined;
  }

  /** Pops `count` operands and pushes the result node, one level above its highest operand. */
  private replace(count: number, type: ValueType, childHeight: number, props: number, at: number): CheckFailure | undefined {
    const height = childHeight + 1;
    if (height > MAX_NESTING_DEPTH) return new CheckFailure(PolicyErrorCode.NestingTooDeep, at, `more than ${MAX_NESTING_DEPTH} levels`);
    this.depth -= count;
    return this.push(type, height, props, at);
  }

  private operands(count: number, at: number): CheckFailure | undefined {
    if (this.depth - this.floor < count) {
      return new CheckFailure(PolicyErrorCode.StackUnderflow, at, `needs ${count} operand${count === 1 ? '' : 's'}, has ${this.depth - this.floor}`);
    }
    return undefined;
  }

  /** Checks the type of the operand `fromTop` places below the top. */
  private expect(fromTop: number, type: ValueType, at: number): CheckFailure | undefined {
    const found = this.types[this.depth - 1 - fromTop] as ValueType;
    if (found === type) return undefined;
    return new CheckFailure(PolicyErrorCode.TypeMismatch, at, `expected ${VALUE_TYPE_NAMES[type]}, found ${VALUE_TYPE_NAMES[found]}`);
  }

  private binaryTypes(op: number, at: number): CheckFailure | undefined {
    switch (op) {
      case Op.AttestedBy:
        return this.expect(1, ValueType.Id, at) ?? this.expect(0, ValueType.Id, at);
      case Op.Granted:
        return this.expect(1, ValueType.Id, at) ?? this.expect(0, ValueType.Str, at);
      case Op.Eq:
      case Op.Ne:
        return this.expect(0, this.types[this.depth - 2] as ValueType, at);
      default:
        return this.expect(1, ValueType.Int, at) ?? this.expect(0, ValueType.Int, at);
    }
  }

  /** Checks the operand bytes of a literal instruction; returns the offset after it. */
  private literal(op: number, pc: number, end: number, at: number): number | CheckFailure {
    const program = this.program;
    switch (op) {
      case Op.False:
      case Op.True:
        return pc;
      case Op.Int:
      case Op.NegInt: {
        const value = readVarint(program, pc, end);
        if (value < 0) return varintFailure(value, pc, 'integer');
        if (op === Op.NegInt && value === 0) return new CheckFailure(PolicyErrorCode.NonCanonical, at, 'zero is written with the Int opcode');
        return pc + varintLength(value);
      }
      case Op.Str: {
        const length = readVarint(program, pc, end);
        if (length < 0) return varintFailure(length, pc, 'string length');
        const start = pc + varintLength(length);
        if (length > MAX_STRING_BYTES) return new CheckFailure(PolicyErrorCode.StringTooLong, at, `${length} bytes; the limit is ${MAX_STRING_BYTES}`);
        if (start + length > end) return new CheckFailure(PolicyErrorCode.Truncated, at, 'string is cut off');
        if (decodeLiteralUtf8(program, start, start + length) === undefined) return new CheckFailure(PolicyErrorCode.InvalidString, at, '');
        return start + length;
      }
      default: {
        if (pc + 32 > end) return new CheckFailure(PolicyErrorCode.Truncated, at, 'identity is cut off');
        return pc + 32;
      }
    }
  }

  /** Checks the literal list of `In` against the tested value's type; returns the offset after it. */
  private list(pc: number, end: number, at: number): number | CheckFailure {
    if (pc >= end) return new CheckFailure(PolicyErrorCode.Truncated, at, 'list length is cut off');
    const count = this.program[pc++]!;
    if (count === 0) return new CheckFailure(PolicyErrorCode.EmptyList, at, '');
    if (count > MAX_LIST_LENGTH) return new CheckFailure(PolicyErrorCode.ListTooLong, at, `${count} elements; the limit is ${MAX_LIST_LENGTH}`);
    const needle = this.types[this.depth - 1] as ValueType;
    for (let i = 0; i < count; i++) {
      if (pc >= end) return new CheckFailure(PolicyErrorCode.Truncated, at, 'list is cut off');
      const itemAt = pc;
      const op = this.program[pc++]!;
      const type = literalType(op);
      if (type === 0) return new CheckFailure(PolicyErrorCode.BadExpression, itemAt, 'list elements must be literals');
      if (type !== needle) {
        return new CheckFailure(PolicyErrorCode.TypeMismatch, itemAt, `list element is ${VALUE_TYPE_NAMES[type]}, the value tested is ${VALUE_TYPE_NAMES[needle]}`);
      }
      const next = this.literal(op, pc, end, itemAt);
      if (next instanceof CheckFailure) return next;
      pc = next;
    }
    return pc;
  }
}

const SCRATCH = new ExpressionChecker();

/** Type pushed by a literal opcode, or 0 if `op` is not a literal. */
export function literalType(op: number): ValueType | 0 {
  switch (op) {
    case Op.False:
    case Op.True:
      return ValueType.Bool;
    case Op.Int:
    case Op.NegInt:
      return ValueType.Int;
    case Op.Str:
      return ValueType.Str;
    case Op.Id:
      return ValueType.Id;
    default:
      return 0;
  }
}
