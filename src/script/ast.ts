import type { ArithOperator, CompareOperator, FunctionName, ValueType, VariableName } from './opcodes.ts';

/**
 * Typed syntax tree shared by the compiler (built from source) and the
 * disassembler (built from bytecode). `offset` is the source offset of the
 * node's token, or -1 for a tree decoded from bytecode. `height` is the depth
 * of the subtree (a leaf is 1), the quantity MAX_NESTING_DEPTH bounds.
 */
interface NodeBase {
  readonly offset: number;
  readonly type: ValueType;
  readonly height: number;
}

export interface BoolLiteral extends NodeBase {
  readonly kind: 'bool';
  readonly value: boolean;
}
export interface IntLiteral extends NodeBase {
  readonly kind: 'int';
  readonly value: number;
}
export interface StringLiteral extends NodeBase {
  readonly kind: 'string';
  readonly value: string;
}
/** An identity literal; `value` is 64 lowercase hex digits. */
export interface IdLiteral extends NodeBase {
  readonly kind: 'id';
  readonly value: string;
}
export type Literal = BoolLiteral | IntLiteral | StringLiteral | IdLiteral;

export interface VariableRef extends NodeBase {
  readonly kind: 'variable';
  readonly name: VariableName;
}
export interface Call extends NodeBase {
  readonly kind: 'call';
  readonly name: FunctionName;
  readonly args: readonly Expr[];
}
export interface Not extends NodeBase {
  readonly kind: 'not';
  readonly operand: Expr;
}
export interface Logic extends NodeBase {
  readonly kind: 'logic';
  readonly operator: 'and' | 'or';
  readonly left: Expr;
  readonly right: Expr;
}
export interface Compare extends NodeBase {
  readonly kind: 'compare';
  readonly operator: CompareOperator;
  readonly left: Expr;
  readonly right: Expr;
}
export interface Arith extends NodeBase {
  readonly kind: 'arith';
  readonly operator: ArithOperator;
  readonly left: Expr;
  readonly right: Expr;
}
export interface Membership extends NodeBase {
  readonly kind: 'in';
  readonly needle: Expr;
  readonly list: readonly Literal[];
}
export type Expr = Literal | VariableRef | Call | Not | Logic | Compare | Arith | Membership;

export type RuleEffect = 'allow' | 'deny';

export interface PolicyRule {
  readonly offset: number;
  readonly effect: RuleEffect;
  /** Bit set of ACTION_BITS. */
  readonly actions: number;
  readonly condition: Expr;
}

export interface PolicyAst {
  readonly rules: readonly PolicyRule[];
}
