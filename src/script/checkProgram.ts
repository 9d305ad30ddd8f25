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
import { FUNCTIONS, Op, RULE_ACTION_MASK, RULE_DENY_BIT, VALUE_TYPE_NAMES, VARIABLES, ValueType } from './opcodes.ts';
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

// Everything is validated before anything runs (format, limits, canonical
// encoding, static types, stack discipline, flags), like Bitcoin Core's hard
// limits first: a setPolicy transaction can be refused here, and the evaluator
// needs no runtime checks beyond the step budget and integer range.
/** Validates bytecode completely under `flags`; never throws. */
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
  program: Uint8Array = new Uint8Array(0);
  private flags: PolicyFlags = 0;
  readonly types = new Uint8Array(MAX_STACK_DEPTH + 1);
  readonly heights = new Uint8Array(MAX_STACK_DEPTH + 1);
  readonly props = new Uint8Array(MAX_STACK_DEPTH + 1);
  // Open `and`/`or` frames: where the right operand ends, and the left operand's facts.
  readonly frameTarget = new Int32Array(MAX_NESTING_DEPTH + 1);
  readonly frameDepth = new Uint8Array(MAX_NESTING_DEPTH + 1);
  readonly frameHeight = new Uint8Array(MAX_NESTING_DEPTH + 1);
  readonly frameProps = new Uint8Array(MAX_NESTING_DEPTH + 1);
  readonly frameIsOr = new Uint8Array(MAX_NESTING_DEPTH + 1);
  readonly frameOffset = new Int32Array(MAX_NESTING_DEPTH + 1);
  maxDepth = 0;
  maxHeight = 0;

  reset(program: Uint8Array, flags: PolicyFlags): void {
    this.program = program;
    this.flags = flags;
    this.maxDepth = 0;
    this.maxHeight = 0;
  }

  check(start: number, end: number, isAllow: boolean, headerOffset: number): CheckFailure | undefined {
    const { program, types, heights, props, frameTarget, frameDepth, frameHeight, frameProps, frameIsOr, frameOffset } = this;
    let depth = 0;
    let floor = 0;
    let frames = 0;
    let pc = start;
    while (pc < end) {
      const at = pc;
      const op = program[pc++]!;
      switch (OP_KIND[op]) {
        case KIND_LITERAL:
        case KIND_LEAF: {
          if (OP_KIND[op] === KIND_LITERAL) {
            const next = this.literal(op, pc, end, at);
            if (next instanceof CheckFailure) return next;
            pc = next;
          }
          if (depth >= MAX_STACK_DEPTH) return new CheckFailure(PolicyErrorCode.StackOverflow, at, `more than ${MAX_STACK_DEPTH} values`);
          types[depth] = OP_RESULT[op]!;
          heights[depth] = 1;
          props[depth] = LEAF_PROPS[op]!;
          depth++;
          if (depth > this.maxDepth) this.maxDepth = depth;
          break;
        }
        case KIND_OPERATOR: {
          const arity = OP_ARITY[op]!;
          if (depth - floor < arity) return underflow(arity, depth - floor, at);
          const a = depth - arity;
          const b = depth - 1;
          // [REJECT] Operand types match the operator's signature (== and != take two values of one type).
          const wantA = OP_PARAM_A[op] === SAME_TYPE ? types[b]! : OP_PARAM_A[op]!;
          const wantB = arity === 2 ? (OP_PARAM_B[op] === SAME_TYPE ? types[a]! : OP_PARAM_B[op]!) : wantA;
          if (types[a] !== wantA || types[b] !== wantB) {
            const [want, found] = types[a] !== wantA ? [wantA, types[a]!] : [wantB, types[b]!];
            return new CheckFailure(PolicyErrorCode.TypeMismatch, at, `expected ${typeName(want)}, found ${typeName(found)}`);
          }
          const height = Math.max(heights[a]!, heights[b]!) + 1;
          if (height > MAX_NESTING_DEPTH) return new CheckFailure(PolicyErrorCode.NestingTooDeep, at, `more than ${MAX_NESTING_DEPTH} levels`);
          const attests = OP_ATTESTS[op] === 1 && (props[a]! & P_REQUESTER_LEAF) !== 0;
          props[a] = plainProps(props[a]! | props[b]!, attests);
          types[a] = OP_RESULT[op]!;
          heights[a] = height;
          if (height > this.maxHeight) this.maxHeight = height;
          depth = a + 1;
          break;
        }
        case KIND_LOGIC: {
          if (depth - floor < 1) return underflow(1, 0, at);
          const top = depth - 1;
          if (types[top] !== ValueType.Bool) {
            return new CheckFailure(PolicyErrorCode.TypeMismatch, at, `expected bool, found ${typeName(types[top]!)}`);
          }
          const skip = readVarint(program, pc, end);
          if (skip < 0) return varintFailure(skip, pc, 'skip length');
          pc += varintLength(skip);
          const target = pc + skip;
          // [REJECT] The skip covers a non-empty right operand that lies inside the rule and inside any enclosing operand.
          if (skip === 0 || target > end || (frames > 0 && target > frameTarget[frames - 1]!)) {
            return new CheckFailure(PolicyErrorCode.BadJump, at, `skip of ${skip} bytes leaves the enclosing expression`);
          }
          if (frames > MAX_NESTING_DEPTH - 1) {
            return new CheckFailure(PolicyErrorCode.NestingTooDeep, at, `more than ${MAX_NESTING_DEPTH} levels`);
          }
          const f = frames++;
          frameTarget[f] = target;
          frameDepth[f] = depth;
          frameHeight[f] = heights[top]!;
          frameProps[f] = props[top]!;
          frameIsOr[f] = op === Op.Or ? 1 : 0;
          frameOffset[f] = at;
          // On the fall-through path the left operand is popped before the right one runs.
          depth--;
          floor = depth;
          break;
        }
        case KIND_IN: {
          if (depth - floor < 1) return underflow(1, 0, at);
          const next = this.list(pc, end, at, types[depth - 1] as ValueType);
          if (next instanceof CheckFailure) return next;
          pc = next;
          const top = depth - 1;
          const height = heights[top]! + 1;
          if (height > MAX_NESTING_DEPTH) return new CheckFailure(PolicyErrorCode.NestingTooDeep, at, `more than ${MAX_NESTING_DEPTH} levels`);
          types[top] = ValueType.Bool;
          heights[top] = height;
          props[top] = plainProps(props[top]!, false);
          if (height > this.maxHeight) this.maxHeight = height;
          break;
        }
        default:
          return new CheckFailure(PolicyErrorCode.UnknownOpcode, at, `byte 0x${op.toString(16).padStart(2, '0')}`);
      }
      // Close every `and`/`or` whose right operand ends here, innermost first.
      while (frames > 0 && frameTarget[frames - 1]! <= pc) {
        const f = frames - 1;
        const fat = frameOffset[f]!;
        // [REJECT] The skip lands exactly on an instruction boundary, after one complete right operand.
        if (frameTarget[f]! < pc) return new CheckFailure(PolicyErrorCode.BadJump, fat, 'skip lands inside an instruction');
        if (depth !== frameDepth[f]!) return new CheckFailure(PolicyErrorCode.BadJump, fat, 'the right operand is not one expression');
        const top = depth - 1;
        if (types[top] !== ValueType.Bool) {
          return new CheckFailure(PolicyErrorCode.TypeMismatch, fat, `the right operand of and/or is ${typeName(types[top]!)}`);
        }
        const height = Math.max(frameHeight[f]!, heights[top]!) + 1;
        if (height > MAX_NESTING_DEPTH) return new CheckFailure(PolicyErrorCode.NestingTooDeep, fat, `more than ${MAX_NESTING_DEPTH} levels`);
        heights[top] = height;
        if (height > this.maxHeight) this.maxHeight = height;
        props[top] = logicProps(frameIsOr[f] === 1, frameProps[f]!, props[top]!);
        frames--;
        floor = frames > 0 ? frameDepth[frames - 1]! - 1 : 0;
      }
    }
    // [REJECT] A condition is exactly one boolean expression.
    if (depth !== 1 || types[0] !== ValueType.Bool) {
      const found = depth === 1 ? typeName(types[0]!) : `${depth} values`;
      return new CheckFailure(PolicyErrorCode.BadExpression, start, `found ${found}`);
    }
    if (isAllow) return this.checkFlagRules(props[0]!, headerOffset);
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
  private list(pc: number, end: number, at: number, needle: ValueType): number | CheckFailure {
    if (pc >= end) return new CheckFailure(PolicyErrorCode.Truncated, at, 'list length is cut off');
    const count = this.program[pc++]!;
    if (count === 0) return new CheckFailure(PolicyErrorCode.EmptyList, at, '');
    if (count > MAX_LIST_LENGTH) return new CheckFailure(PolicyErrorCode.ListTooLong, at, `${count} elements; the limit is ${MAX_LIST_LENGTH}`);
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


// Static description of every opcode, so one generic path checks all operators.
const KIND_LITERAL = 1;
const KIND_LEAF = 2;
const KIND_OPERATOR = 3;
const KIND_LOGIC = 4;
const KIND_IN = 5;
/** Marks `==`/`!=` operands: any type, the same on both sides. */
const SAME_TYPE = 0xff;

const OP_KIND = new Uint8Array(256);
const OP_ARITY = new Uint8Array(256);
const OP_PARAM_A = new Uint8Array(256);
const OP_PARAM_B = new Uint8Array(256);
const OP_RESULT = new Uint8Array(256);
const OP_ATTESTS = new Uint8Array(256);
const LEAF_PROPS = new Uint8Array(256);

function defineOperator(op: Op, params: readonly number[], result: ValueType): void {
  OP_KIND[op] = KIND_OPERATOR;
  OP_ARITY[op] = params.length;
  OP_PARAM_A[op] = params[0]!;
  OP_PARAM_B[op] = params[1] ?? 0;
  OP_RESULT[op] = result;
}

for (const op of [Op.False, Op.True, Op.Int, Op.NegInt, Op.Str, Op.Id]) {
  OP_KIND[op] = KIND_LITERAL;
  OP_RESULT[op] = literalType(op) as ValueType;
  LEAF_PROPS[op] = plainProps(0, false);
}
for (const variable of Object.values(VARIABLES)) {
  OP_KIND[variable.op] = KIND_LEAF;
  OP_RESULT[variable.op] = variable.type;
  LEAF_PROPS[variable.op] = plainProps(0, false);
}
LEAF_PROPS[Op.Requester] = plainProps(P_MENTIONS_REQUESTER, false) | P_REQUESTER_LEAF;
LEAF_PROPS[Op.Emergency] = plainProps(P_MENTIONS_EMERGENCY, false);
for (const fn of Object.values(FUNCTIONS)) defineOperator(fn.op, fn.params, fn.result);
OP_ATTESTS[Op.Attested] = 1;
OP_ATTESTS[Op.AttestedBy] = 1;
defineOperator(Op.Not, [ValueType.Bool], ValueType.Bool);
for (const op of [Op.Eq, Op.Ne]) defineOperator(op, [SAME_TYPE, SAME_TYPE], ValueType.Bool);
for (const op of [Op.Lt, Op.Le, Op.Gt, Op.Ge]) defineOperator(op, [ValueType.Int, ValueType.Int], ValueType.Bool);
for (const op of [Op.Add, Op.Sub]) defineOperator(op, [ValueType.Int, ValueType.Int], ValueType.Int);
OP_KIND[Op.And] = KIND_LOGIC;
OP_KIND[Op.Or] = KIND_LOGIC;
OP_KIND[Op.In] = KIND_IN;

function typeName(type: number): string {
  return VALUE_TYPE_NAMES[type as ValueType] ?? `type ${type}`;
}

function underflow(needed: number, available: number, at: number): CheckFailure {
  return new CheckFailure(PolicyErrorCode.StackUnderflow, at, `needs ${needed} operand${needed === 1 ? '' : 's'}, has ${available}`);
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
