import type { Expr, Literal, PolicyAst, PolicyRule } from './ast.ts';
import { checkProgram } from './checkProgram.ts';
import { PolicyError, policyErrorDetail } from './errors.ts';
import { NO_POLICY_FLAGS } from './flags.ts';
import { decodeLiteralUtf8 } from './literalText.ts';
import { MAX_STACK_DEPTH } from './limits.ts';
import {
  ARITH_OPS,
  COMPARE_OPS,
  FUNCTIONS,
  Op,
  RULE_ACTION_MASK,
  RULE_DENY_BIT,
  VARIABLES,
  ValueType,
  type ArithOperator,
  type CompareOperator,
  type FunctionName,
  type VariableName,
} from './opcodes.ts';
import { readVarint, varintLength } from './varint.ts';
import { toHex } from '../codec/bytes.ts';

const VARIABLE_BY_OP = new Map<number, VariableName>(
  (Object.keys(VARIABLES) as VariableName[]).map((name) => [VARIABLES[name].op, name]),
);
const FUNCTION_BY_OP = new Map<number, FunctionName>((Object.keys(FUNCTIONS) as FunctionName[]).map((name) => [FUNCTIONS[name].op, name]));
const COMPARE_BY_OP = new Map<number, CompareOperator>(
  (Object.keys(COMPARE_OPS) as CompareOperator[]).map((operator) => [COMPARE_OPS[operator], operator]),
);
const ARITH_BY_OP = new Map<number, ArithOperator>((Object.keys(ARITH_OPS) as ArithOperator[]).map((operator) => [ARITH_OPS[operator], operator]));

// Checked with no flags, since disassembly serves any structurally valid
// program; after the check the replay below can trust the structure.
/** Syntax tree of valid bytecode; throws PolicyError if checkProgram refuses it. */
export function decodeProgram(program: Uint8Array): PolicyAst {
  const checked = checkProgram(program, NO_POLICY_FLAGS);
  if (!checked.ok) {
    const { code, message, offset } = checked.error;
    const detail = policyErrorDetail(code, message);
    throw new PolicyError(code, `${detail}${detail === '' ? '' : ' '}at byte ${offset}`);
  }
  const rules: PolicyRule[] = [];
  let pc = 1;
  while (pc < program.length) {
    const header = program[pc++]!;
    const length = readVarint(program, pc, program.length);
    pc += varintLength(length);
    rules.push({
      offset: -1,
      effect: (header & RULE_DENY_BIT) !== 0 ? 'deny' : 'allow',
      actions: header & RULE_ACTION_MASK,
      condition: decodeCondition(program, pc, pc + length),
    });
    pc += length;
  }
  return { rules };
}

interface OpenLogic {
  readonly target: number;
  readonly operator: 'and' | 'or';
  readonly left: Expr;
}

function decodeCondition(program: Uint8Array, start: number, end: number): Expr {
  const stack: Expr[] = [];
  const open: OpenLogic[] = [];
  let pc = start;
  const pop = (): Expr => stack.pop()!;
  while (pc < end) {
    const op = program[pc]!;
    const literal = readLiteral(program, pc);
    if (literal !== undefined) {
      stack.push(literal.expr);
      pc = literal.next;
    } else {
      pc++;
      const variable = VARIABLE_BY_OP.get(op);
      const fn = FUNCTION_BY_OP.get(op);
      const compare = COMPARE_BY_OP.get(op);
      const arith = ARITH_BY_OP.get(op);
      if (variable !== undefined) {
        stack.push({ kind: 'variable', name: variable, offset: -1, type: VARIABLES[variable].type, height: 1 });
      } else if (fn !== undefined) {
        const args = FUNCTIONS[fn].params.map(() => pop()).reverse();
        stack.push({ kind: 'call', name: fn, args, offset: -1, type: FUNCTIONS[fn].result, height: heightOf(...args) });
      } else if (op === Op.Not) {
        const operand = pop();
        stack.push({ kind: 'not', operand, offset: -1, type: ValueType.Bool, height: heightOf(operand) });
      } else if (compare !== undefined || arith !== undefined) {
        const right = pop();
        const left = pop();
        stack.push(
          compare !== undefined
            ? { kind: 'compare', operator: compare, left, right, offset: -1, type: ValueType.Bool, height: heightOf(left, right) }
            : { kind: 'arith', operator: arith!, left, right, offset: -1, type: ValueType.Int, height: heightOf(left, right) },
        );
      } else if (op === Op.And || op === Op.Or) {
        const skip = readVarint(program, pc, end);
        pc += varintLength(skip);
        open.push({ target: pc + skip, operator: op === Op.And ? 'and' : 'or', left: pop() });
      } else if (op === Op.In) {
        const needle = pop();
        const count = program[pc++]!;
        const list: Literal[] = [];
        for (let i = 0; i < count; i++) {
          const item = readLiteral(program, pc)!;
          list.push(item.expr);
          pc = item.next;
        }
        stack.push({ kind: 'in', needle, list, offset: -1, type: ValueType.Bool, height: heightOf(needle) });
      }
    }
    while (open.length > 0 && open[open.length - 1]!.target === pc) {
      const { operator, left } = open.pop()!;
      const right = pop();
      stack.push({ kind: 'logic', operator, left, right, offset: -1, type: ValueType.Bool, height: heightOf(left, right) });
    }
    if (stack.length > MAX_STACK_DEPTH) throw new Error('decodeProgram: stack grew past the checked limit');
  }
  return stack[0]!;
}

function heightOf(...children: Expr[]): number {
  return 1 + Math.max(...children.map((c) => c.height));
}

function readLiteral(program: Uint8Array, pc: number): { expr: Literal; next: number } | undefined {
  const op = program[pc]!;
  const base = { offset: -1, height: 1 } as const;
  switch (op) {
    case Op.False:
    case Op.True:
      return { expr: { kind: 'bool', value: op === Op.True, type: ValueType.Bool, ...base }, next: pc + 1 };
    case Op.Int:
    case Op.NegInt: {
      const magnitude = readVarint(program, pc + 1, program.length);
      const value = op === Op.NegInt ? -magnitude : magnitude;
      return { expr: { kind: 'int', value, type: ValueType.Int, ...base }, next: pc + 1 + varintLength(magnitude) };
    }
    case Op.Str: {
      const length = readVarint(program, pc + 1, program.length);
      const start = pc + 1 + varintLength(length);
      const value = decodeLiteralUtf8(program, start, start + length)!;
      return { expr: { kind: 'string', value, type: ValueType.Str, ...base }, next: start + length };
    }
    case Op.Id:
      return { expr: { kind: 'id', value: toHex(program.subarray(pc + 1, pc + 33)), type: ValueType.Id, ...base }, next: pc + 33 };
    default:
      return undefined;
  }
}
