import type { Expr, Literal, PolicyAst } from './ast.ts';
import { checkProgram } from './checkProgram.ts';
import { PolicyErrorCode, policyErrorDetail, policyErrorMessage } from './errors.ts';
import { CURRENT_POLICY_FLAGS, type PolicyFlags } from './flags.ts';
import { SyntaxFailure } from './lexer.ts';
import { MAX_PROGRAM_BYTES, MAX_SOURCE_BYTES, POLICY_FORMAT_VERSION } from './limits.ts';
import { ARITH_OPS, COMPARE_OPS, FUNCTIONS, Op, RULE_DENY_BIT, VARIABLES } from './opcodes.ts';
import { parsePolicySource } from './parser.ts';
import { sourcePosition } from './sourcePosition.ts';
import { varintLength, writeVarint } from './varint.ts';
import { fromHex, utf8 } from '../codec/bytes.ts';

/** A compile error: the code, a message saying what was expected, and where (1-based line and column). */
export interface CompileError {
  readonly code: PolicyErrorCode;
  readonly message: string;
  readonly line: number;
  readonly column: number;
}

export type CompileResult = { readonly ok: true; readonly program: Uint8Array } | { readonly ok: false; readonly error: CompileError };

/** Compiles policy source to bytecode that checkProgram(program, flags) accepts; errors are returned, not thrown. */
export function compilePolicy(source: string, flags: PolicyFlags = CURRENT_POLICY_FLAGS): CompileResult {
  if (typeof source !== 'string') return failAt('', 0, PolicyErrorCode.InvalidCharacter, 'the source is not text');
  if (source.length > MAX_SOURCE_BYTES || utf8(source).length > MAX_SOURCE_BYTES) {
    return failAt(source, 0, PolicyErrorCode.SourceTooLarge, `the limit is ${MAX_SOURCE_BYTES} UTF-8 bytes`);
  }
  let ast: PolicyAst;
  try {
    ast = parsePolicySource(source);
  } catch (error) {
    if (error instanceof SyntaxFailure) return failAt(source, error.offset, error.code, error.detail);
    throw error;
  }
  const emitter = new Emitter();
  const ruleEnds: number[] = [];
  for (const rule of ast.rules) {
    emitter.rule(rule.effect === 'deny' ? RULE_DENY_BIT | rule.actions : rule.actions, rule.condition, rule.offset);
    ruleEnds.push(emitter.bytes.length);
  }
  // [REJECT] Program size, reported at the first rule that does not fit.
  const overflowing = ruleEnds.findIndex((end) => end > MAX_PROGRAM_BYTES);
  if (overflowing >= 0) {
    return failAt(
      source,
      ast.rules[overflowing]!.offset,
      PolicyErrorCode.ProgramTooLarge,
      `the program would be ${emitter.bytes.length} bytes; the limit is ${MAX_PROGRAM_BYTES}`,
    );
  }
  const program = Uint8Array.from(emitter.bytes);
  // The checker is the single authority on limits and flags; its byte offset maps back to the source.
  const checked = checkProgram(program, flags);
  if (!checked.ok) {
    return failAt(source, emitter.sourceOffsetOf(checked.error.offset), checked.error.code, policyErrorDetail(checked.error.code, checked.error.message));
  }
  return { ok: true, program };
}

/** Encodes an already-typed tree; used by compilePolicy and by tests that build trees directly. */
export function encodePolicyAst(ast: PolicyAst): Uint8Array {
  const emitter = new Emitter();
  for (const rule of ast.rules) emitter.rule(rule.effect === 'deny' ? RULE_DENY_BIT | rule.actions : rule.actions, rule.condition, rule.offset);
  return Uint8Array.from(emitter.bytes);
}

function failAt(source: string, offset: number, code: PolicyErrorCode, detail: string): CompileResult {
  const { line, column } = sourcePosition(source, offset);
  return { ok: false, error: { code, message: `${policyErrorMessage(code, detail)} (line ${line}, column ${column})`, line, column } };
}

/** Postfix code generator; records the source offset of every instruction it emits. */
class Emitter {
  readonly bytes: number[] = [POLICY_FORMAT_VERSION];
  private readonly mapBytes: number[] = [0];
  private readonly mapSource: number[] = [0];
  private readonly sizes = new Map<Expr, number>();

  rule(header: number, condition: Expr, offset: number): void {
    this.mark(offset);
    this.bytes.push(header);
    writeVarint(this.size(condition), this.bytes);
    this.expr(condition);
  }

  /** Source offset of the instruction that starts at or before byte `offset`. */
  sourceOffsetOf(offset: number): number {
    let lo = 0;
    let hi = this.mapBytes.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.mapBytes[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return this.mapSource[lo]!;
  }

  private mark(sourceOffset: number): void {
    this.mapBytes.push(this.bytes.length);
    this.mapSource.push(Math.max(sourceOffset, 0));
  }

  private expr(e: Expr): void {
    switch (e.kind) {
      case 'bool':
      case 'int':
      case 'string':
      case 'id':
        this.mark(e.offset);
        writeLiteral(e, this.bytes);
        return;
      case 'variable':
        this.mark(e.offset);
        this.bytes.push(VARIABLES[e.name].op);
        return;
      case 'call':
        for (const arg of e.args) this.expr(arg);
        this.mark(e.offset);
        this.bytes.push(FUNCTIONS[e.name].op);
        return;
      case 'not':
        this.expr(e.operand);
        this.mark(e.offset);
        this.bytes.push(Op.Not);
        return;
      case 'logic':
        this.expr(e.left);
        this.mark(e.offset);
        this.bytes.push(e.operator === 'and' ? Op.And : Op.Or);
        writeVarint(this.size(e.right), this.bytes);
        this.expr(e.right);
        return;
      case 'compare':
      case 'arith':
        this.expr(e.left);
        this.expr(e.right);
        this.mark(e.offset);
        this.bytes.push(e.kind === 'compare' ? COMPARE_OPS[e.operator] : ARITH_OPS[e.operator]);
        return;
      case 'in':
        this.expr(e.needle);
        this.mark(e.offset);
        this.bytes.push(Op.In, e.list.length);
        for (const item of e.list) {
          this.mark(item.offset);
          writeLiteral(item, this.bytes);
        }
        return;
    }
  }

  /** Encoded size of `e`, memoised because every `and`/`or` needs the size of its right operand first. */
  private size(e: Expr): number {
    const known = this.sizes.get(e);
    if (known !== undefined) return known;
    let size: number;
    switch (e.kind) {
      case 'bool':
      case 'int':
      case 'string':
      case 'id':
        size = literalSize(e);
        break;
      case 'variable':
        size = 1;
        break;
      case 'call':
        size = 1 + e.args.reduce((sum, arg) => sum + this.size(arg), 0);
        break;
      case 'not':
        size = 1 + this.size(e.operand);
        break;
      case 'logic': {
        const right = this.size(e.right);
        size = this.size(e.left) + 1 + varintLength(right) + right;
        break;
      }
      case 'compare':
      case 'arith':
        size = this.size(e.left) + this.size(e.right) + 1;
        break;
      case 'in':
        size = this.size(e.needle) + 2 + e.list.reduce((sum, item) => sum + literalSize(item), 0);
        break;
    }
    this.sizes.set(e, size);
    return size;
  }
}

function writeLiteral(e: Literal, out: number[]): void {
  switch (e.kind) {
    case 'bool':
      out.push(e.value ? Op.True : Op.False);
      return;
    case 'int':
      out.push(e.value < 0 ? Op.NegInt : Op.Int);
      writeVarint(Math.abs(e.value), out);
      return;
    case 'string': {
      const bytes = utf8(e.value);
      out.push(Op.Str);
      writeVarint(bytes.length, out);
      for (const b of bytes) out.push(b);
      return;
    }
    case 'id': {
      out.push(Op.Id);
      for (const b of fromHex(e.value)!) out.push(b);
      return;
    }
  }
}

function literalSize(e: Literal): number {
  switch (e.kind) {
    case 'bool':
      return 1;
    case 'int':
      return 1 + varintLength(Math.abs(e.value));
    case 'string': {
      const length = utf8(e.value).length;
      return 1 + varintLength(length) + length;
    }
    case 'id':
      return 33;
  }
}

