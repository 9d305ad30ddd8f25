import type { Expr, Literal, PolicyAst, PolicyRule, RuleEffect } from './ast.ts';
import { PolicyErrorCode } from './errors.ts';
import { SyntaxFailure, tokenize, type Token } from './lexer.ts';
import { MAX_LIST_LENGTH, MAX_NESTING_DEPTH, MAX_RULES } from './limits.ts';
import {
  ACTION_BITS,
  ARITH_OPS,
  COMPARE_OPS,
  FUNCTIONS,
  VALUE_TYPE_NAMES,
  VARIABLES,
  ValueType,
  type ArithOperator,
  type CompareOperator,
  type FunctionName,
  type VariableName,
} from './opcodes.ts';

/*
 * Recursive-descent parser and type checker. Grammar (lowest precedence first):
 *
 *   policy  := rule+
 *   rule    := ("allow" | "deny") action ("," action)* "if" or
 *   or      := and ("or" and)*
 *   and     := not ("and" not)*
 *   not     := "not" not | compare
 *   compare := sum [("==" | "!=" | "<" | "<=" | ">" | ">=") sum | "in" list]
 *   sum     := unary (("+" | "-") unary)*
 *   unary   := "-" INT | primary
 *   primary := INT | STRING | ID | "true" | "false" | variable | function "(" or ("," or)* ")" | "(" or ")"
 *   list    := "[" literal ("," literal)* "]"
 */
/** Typed syntax tree of policy source; throws SyntaxFailure at the first error. */
export function parsePolicySource(source: string): PolicyAst {
  return new Parser(tokenize(source)).policy();
}

const KEYWORDS = new Set(['allow', 'deny', 'if', 'and', 'or', 'not', 'in', 'true', 'false']);

class Parser {
  private readonly tokens: Token[];
  private index = 0;
  /** Nesting of parentheses, `not` and call arguments: bounds recursion before any tree is built. */
  private depth = 0;

  constructor(tokens: Token[]) {
    this.tokens = tokens;
  }

  policy(): PolicyAst {
    const rules: PolicyRule[] = [];
    while (this.peek().kind !== 'eof') {
      if (rules.length === MAX_RULES) {
        throw new SyntaxFailure(PolicyErrorCode.TooManyRules, this.peek().offset, `the limit is ${MAX_RULES} rules`);
      }
      rules.push(this.rule());
    }
    if (rules.length === 0) {
      throw new SyntaxFailure(PolicyErrorCode.NoRules, this.peek().offset, "expected a rule such as 'allow read if requester == owner'");
    }
    return { rules };
  }

  private rule(): PolicyRule {
    const start = this.next();
    if (start.kind !== 'name' || (start.text !== 'allow' && start.text !== 'deny')) {
      throw this.unexpected(start, "'allow' or 'deny' at the start of a rule");
    }
    let actions = 0;
    for (;;) {
      const token = this.next();
      const bit = token.kind === 'name' ? actionBit(token.text) : 0;
      if (bit === 0) throw this.unexpected(token, 'an action (read, write or delegate)');
      if ((actions & bit) !== 0) throw new SyntaxFailure(PolicyErrorCode.DuplicateAction, token.offset, `'${token.text}' appears twice`);
      actions |= bit;
      if (!this.acceptPunct(',')) break;
    }
    const ifToken = this.next();
    if (ifToken.kind !== 'name' || ifToken.text !== 'if') throw this.unexpected(ifToken, "',' or 'if'");
    const condition = this.or();
    if (condition.type !== ValueType.Bool) {
      throw typeError(condition, `a rule condition must be a bool, found ${VALUE_TYPE_NAMES[condition.type]}`);
    }
    const after = this.peek();
    if (after.kind !== 'eof' && !(after.kind === 'name' && (after.text === 'allow' || after.text === 'deny'))) {
      throw this.unexpected(after, "an operator, or 'allow' / 'deny' starting the next rule");
    }
    return { offset: start.offset, effect: start.text as RuleEffect, actions, condition };
  }

  private or(): Expr {
    let left = this.and();
    while (this.peekName('or')) {
      const op = this.next();
      const right = this.and();
      left = this.logic('or', op, left, right);
    }
    return left;
  }

  private and(): Expr {
    let left = this.not();
    while (this.peekName('and')) {
      const op = this.next();
      const right = this.not();
      left = this.logic('and', op, left, right);
    }
    return left;
  }

  private logic(operator: 'and' | 'or', op: Token, left: Expr, right: Expr): Expr {
    requireType(left, ValueType.Bool, `the left operand of '${operator}'`);
    requireType(right, ValueType.Bool, `the right operand of '${operator}'`);
    return { kind: 'logic', operator, left, right, offset: op.offset, type: ValueType.Bool, height: nodeHeight(op, left, right) };
  }

  private not(): Expr {
    if (!this.peekName('not')) return this.compare();
    const op = this.next();
    this.enter(op);
    const operand = this.not();
    this.depth--;
    requireType(operand, ValueType.Bool, "the operand of 'not'");
    return { kind: 'not', operand, offset: op.offset, type: ValueType.Bool, height: nodeHeight(op, operand) };
  }

  private compare(): Expr {
    const left = this.sum();
    const op = this.peek();
    let result: Expr;
    if (op.kind === 'punct' && op.text in COMPARE_OPS) {
      this.next();
      const operator = op.text as CompareOperator;
      const right = this.sum();
      if (operator === '==' || operator === '!=') {
        if (left.type !== right.type) {
          const hint =
            left.type === ValueType.Id || right.type === ValueType.Id ? ' (an identity is written 0x followed by 64 hex digits)' : '';
          throw typeError(right, `cannot compare ${VALUE_TYPE_NAMES[left.type]} with ${VALUE_TYPE_NAMES[right.type]}${hint}`);
        }
      } else {
        requireType(left, ValueType.Int, `the left operand of '${operator}'`);
        requireType(right, ValueType.Int, `the right operand of '${operator}'`);
      }
      result = { kind: 'compare', operator, left, right, offset: op.offset, type: ValueType.Bool, height: nodeHeight(op, left, right) };
    } else if (op.kind === 'name' && op.text === 'in') {
      this.next();
      const list = this.list(left);
      result = { kind: 'in', needle: left, list, offset: op.offset, type: ValueType.Bool, height: nodeHeight(op, left) };
    } else {
      return left;
    }
    const chained = this.peek();
    if ((chained.kind === 'punct' && chained.text in COMPARE_OPS) || (chained.kind === 'name' && chained.text === 'in')) {
      throw new SyntaxFailure(PolicyErrorCode.ChainedComparison, chained.offset, `found '${chained.text}' after a comparison`);
    }
    return result;
  }

  private list(needle: Expr): Literal[] {
    const open = this.next();
    if (open.kind !== 'punct' || open.text !== '[') throw this.unexpected(open, "'[' starting a list after 'in'");
    if (this.peekPunct(']')) throw new SyntaxFailure(PolicyErrorCode.EmptyList, open.offset, 'write at least one element');
    const items: Literal[] = [];
    for (;;) {
      if (items.length === MAX_LIST_LENGTH) {
        throw new SyntaxFailure(PolicyErrorCode.ListTooLong, this.peek().offset, `the limit is ${MAX_LIST_LENGTH} elements`);
      }
      const item = this.literal();
      if (item.type !== needle.type) {
        throw typeError(item, `list element is ${VALUE_TYPE_NAMES[item.type]} but the value tested is ${VALUE_TYPE_NAMES[needle.type]}`);
      }
      items.push(item);
      const sep = this.next();
      if (sep.kind === 'punct' && sep.text === ']') return items;
      if (sep.kind !== 'punct' || sep.text !== ',') throw this.unexpected(sep, "',' or ']'");
    }
  }

  private literal(): Literal {
    const token = this.peek();
    if (token.kind === 'punct' && token.text === '-') return this.negative();
    const expr = token.kind === 'name' && token.text !== 'true' && token.text !== 'false' ? undefined : this.primaryLiteral();
    if (expr === undefined) throw this.unexpected(token, 'a literal (list elements must be constants)');
    return expr;
  }

  private sum(): Expr {
    let left = this.unary();
    for (;;) {
      const op = this.peek();
      if (op.kind !== 'punct' || !(op.text in ARITH_OPS)) return left;
      this.next();
      const operator = op.text as ArithOperator;
      const right = this.unary();
      requireType(left, ValueType.Int, `the left operand of '${operator}'`);
      requireType(right, ValueType.Int, `the right operand of '${operator}'`);
      left = { kind: 'arith', operator, left, right, offset: op.offset, type: ValueType.Int, height: nodeHeight(op, left, right) };
    }
  }

  private unary(): Expr {
    return this.peekPunct('-') ? this.negative() : this.primary();
  }

  /** Unary minus exists only on integer literals, so every integer constant has one spelling. */
  private negative(): Literal {
    const minus = this.next();
    const digits = this.next();
    if (digits.kind !== 'int') throw this.unexpected(digits, "an integer after unary '-' (to negate an expression write 0 - x)");
    return { kind: 'int', value: digits.value === 0 ? 0 : -digits.value, offset: minus.offset, type: ValueType.Int, height: 1 };
  }

  private primary(): Expr {
    const literal = this.primaryLiteral();
    if (literal !== undefined) return literal;
    const token = this.next();
    if (token.kind === 'punct' && token.text === '(') {
      this.enter(token);
      const inner = this.or();
      this.depth--;
      this.expectPunct(')');
      return inner;
    }
    if (token.kind !== 'name' || KEYWORDS.has(token.text)) throw this.unexpected(token, 'an expression');
    if (Object.hasOwn(VARIABLES, token.text)) {
      const variable = VARIABLES[token.text as VariableName];
      return { kind: 'variable', name: token.text as VariableName, offset: token.offset, type: variable.type, height: 1 };
    }
    if (Object.hasOwn(FUNCTIONS, token.text)) return this.call(token);
    throw new SyntaxFailure(
      PolicyErrorCode.UnknownName,
      token.offset,
      `'${token.text}' is not a value or function; values: ${Object.keys(VARIABLES).join(', ')}; functions: ${Object.keys(FUNCTIONS).join(', ')}`,
    );
  }

  private primaryLiteral(): Literal | undefined {
    const token = this.peek();
    const base = { offset: token.offset, height: 1 } as const;
    if (token.kind === 'int') {
      this.next();
      return { kind: 'int', value: token.value, type: ValueType.Int, ...base };
    }
    if (token.kind === 'string') {
      this.next();
      return { kind: 'string', value: token.text, type: ValueType.Str, ...base };
    }
    if (token.kind === 'id') {
      this.next();
      return { kind: 'id', value: token.text, type: ValueType.Id, ...base };
    }
    if (token.kind === 'name' && (token.text === 'true' || token.text === 'false')) {
      this.next();
      return { kind: 'bool', value: token.text === 'true', type: ValueType.Bool, ...base };
    }
    return undefined;
  }

  private call(nameToken: Token): Expr {
    const name = nameToken.text as FunctionName;
    const signature = FUNCTIONS[name];
    const open = this.next();
    if (open.kind !== 'punct' || open.text !== '(') throw this.unexpected(open, `'(' after ${name}`);
    const args: Expr[] = [];
    const expected = signature.params.map((t) => VALUE_TYPE_NAMES[t]).join(', ');
    if (!this.peekPunct(')')) {
      for (;;) {
        this.enter(this.peek());
        args.push(this.or());
        this.depth--;
        if (!this.acceptPunct(',')) break;
      }
    }
    const close = this.next();
    if (close.kind !== 'punct' || close.text !== ')') throw this.unexpected(close, "',' or ')' in the argument list");
    if (args.length !== signature.params.length) {
      throw new SyntaxFailure(
        PolicyErrorCode.WrongArgumentCount,
        nameToken.offset,
        `${name}(${expected}) takes ${signature.params.length} argument${signature.params.length === 1 ? '' : 's'}, found ${args.length}`,
      );
    }
    args.forEach((arg, i) => requireType(arg, signature.params[i]!, `argument ${i + 1} of ${name}(${expected})`));
    return { kind: 'call', name, args, offset: nameToken.offset, type: signature.result, height: nodeHeight(nameToken, ...args) };
  }

  private enter(token: Token): void {
    if (++this.depth > MAX_NESTING_DEPTH) {
      throw new SyntaxFailure(PolicyErrorCode.NestingTooDeep, token.offset, `more than ${MAX_NESTING_DEPTH} nested levels`);
    }
  }

  private peek(): Token {
    return this.tokens[this.index]!;
  }

  private next(): Token {
    const token = this.tokens[this.index]!;
    if (token.kind !== 'eof') this.index++;
    return token;
  }

  private peekName(text: string): boolean {
    const t = this.peek();
    return t.kind === 'name' && t.text === text;
  }

  private peekPunct(text: string): boolean {
    const t = this.peek();
    return t.kind === 'punct' && t.text === text;
  }

  private acceptPunct(text: string): boolean {
    if (!this.peekPunct(text)) return false;
    this.next();
    return true;
  }

  private expectPunct(text: string): void {
    const t = this.next();
    if (t.kind !== 'punct' || t.text !== text) throw this.unexpected(t, `'${text}'`);
  }

  private unexpected(token: Token, expected: string): SyntaxFailure {
    return new SyntaxFailure(PolicyErrorCode.UnexpectedToken, token.offset, `expected ${expected}, found ${describeToken(token)}`);
  }
}

function actionBit(text: string): number {
  return Object.hasOwn(ACTION_BITS, text) ? ACTION_BITS[text as keyof typeof ACTION_BITS] : 0;
}

function nodeHeight(at: Token, ...children: Expr[]): number {
  let max = 0;
  for (const child of children) max = Math.max(max, child.height);
  const height = max + 1;
  if (height > MAX_NESTING_DEPTH) {
    throw new SyntaxFailure(PolicyErrorCode.NestingTooDeep, at.offset, `the expression tree is deeper than ${MAX_NESTING_DEPTH} levels`);
  }
  return height;
}

function requireType(expr: Expr, type: ValueType, what: string): void {
  if (expr.type !== type) throw typeError(expr, `${what} must be ${VALUE_TYPE_NAMES[type]}, found ${VALUE_TYPE_NAMES[expr.type]}`);
}

function typeError(expr: Expr, detail: string): SyntaxFailure {
  return new SyntaxFailure(PolicyErrorCode.TypeMismatch, expr.offset, detail);
}

function describeToken(token: Token): string {
  switch (token.kind) {
    case 'eof':
      return 'the end of the policy';
    case 'string':
      return 'a string';
    case 'int':
      return `the number ${token.text}`;
    case 'id':
      return 'an identity literal';
    default:
      return `'${token.text}'`;
  }
}
