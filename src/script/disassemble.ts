import type { Expr, Literal, PolicyAst, PolicyRule } from './ast.ts';
import { decodeProgram } from './decodeProgram.ts';
import { ACTION_BITS } from './opcodes.ts';

// Binding strength, loosest first; a child weaker than its slot needs parentheses.
const LEVEL_OR = 1;
const LEVEL_AND = 2;
const LEVEL_NOT = 3;
const LEVEL_COMPARE = 4;
const LEVEL_SUM = 5;
const LEVEL_ATOM = 6;

/** Policy source for valid bytecode, one rule per line; it compiles back to the same bytes. Throws PolicyError if the bytes are invalid. */
export function disassemble(program: Uint8Array): string {
  return formatPolicy(decodeProgram(program));
}

/** Canonical source text of a syntax tree. */
export function formatPolicy(ast: PolicyAst): string {
  return ast.rules.map(formatRule).join('\n') + '\n';
}

function formatRule(rule: PolicyRule): string {
  const actions = (Object.keys(ACTION_BITS) as (keyof typeof ACTION_BITS)[]).filter((a) => (rule.actions & ACTION_BITS[a]) !== 0);
  return `${rule.effect} ${actions.join(', ')} if ${formatExpr(rule.condition, LEVEL_OR)}`;
}

function formatExpr(e: Expr, slot: number): string {
  const text = render(e);
  return levelOf(e) < slot ? `(${text})` : text;
}

function levelOf(e: Expr): number {
  switch (e.kind) {
    case 'logic':
      return e.operator === 'or' ? LEVEL_OR : LEVEL_AND;
    case 'not':
      return LEVEL_NOT;
    case 'compare':
    case 'in':
      return LEVEL_COMPARE;
    case 'arith':
      return LEVEL_SUM;
    default:
      return LEVEL_ATOM;
  }
}

function render(e: Expr): string {
  switch (e.kind) {
    case 'bool':
    case 'int':
    case 'string':
    case 'id':
      return formatLiteral(e);
    case 'variable':
      return e.name;
    case 'call':
      return `${e.name}(${e.args.map((a) => formatExpr(a, LEVEL_OR)).join(', ')})`;
    case 'not':
      return `not ${formatExpr(e.operand, LEVEL_NOT)}`;
    case 'logic': {
      const level = levelOf(e);
      return `${formatExpr(e.left, level)} ${e.operator} ${formatExpr(e.right, level + 1)}`;
    }
    case 'compare':
      return `${formatExpr(e.left, LEVEL_SUM)} ${e.operator} ${formatExpr(e.right, LEVEL_SUM)}`;
    case 'arith':
      return `${formatExpr(e.left, LEVEL_SUM)} ${e.operator} ${formatExpr(e.right, LEVEL_ATOM)}`;
    case 'in':
      return `${formatExpr(e.needle, LEVEL_SUM)} in [${e.list.map(formatLiteral).join(', ')}]`;
  }
}

function formatLiteral(e: Literal): string {
  switch (e.kind) {
    case 'bool':
      return e.value ? 'true' : 'false';
    case 'int':
      return String(e.value);
    case 'string':
      return `"${e.value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
    case 'id':
      return `0x${e.value}`;
  }
}
