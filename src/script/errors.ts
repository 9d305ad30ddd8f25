/**
 * The closed set of errors the engine can report. Codes are stable identifiers
 * (they appear in vectors, RPC answers and logs); each has a fixed message, to
 * which a detail (what was found, what was expected) may be appended.
 */
export const PolicyErrorCode = {
  // Source text (compiler only).
  SourceTooLarge: 'SOURCE_TOO_LARGE',
  InvalidCharacter: 'INVALID_CHARACTER',
  UnterminatedString: 'UNTERMINATED_STRING',
  InvalidEscape: 'INVALID_ESCAPE',
  InvalidIdLiteral: 'INVALID_ID_LITERAL',
  UnexpectedToken: 'UNEXPECTED_TOKEN',
  UnknownName: 'UNKNOWN_NAME',
  WrongArgumentCount: 'WRONG_ARGUMENT_COUNT',
  DuplicateAction: 'DUPLICATE_ACTION',
  ChainedComparison: 'CHAINED_COMPARISON',
  // Source text and bytecode.
  TypeMismatch: 'TYPE_MISMATCH',
  NoRules: 'NO_RULES',
  ProgramTooLarge: 'PROGRAM_TOO_LARGE',
  TooManyRules: 'TOO_MANY_RULES',
  StringTooLong: 'STRING_TOO_LONG',
  InvalidString: 'INVALID_STRING',
  EmptyList: 'EMPTY_LIST',
  ListTooLong: 'LIST_TOO_LONG',
  IntegerOutOfRange: 'INTEGER_OUT_OF_RANGE',
  NestingTooDeep: 'NESTING_TOO_DEEP',
  StackOverflow: 'STACK_OVERFLOW',
  // Bytecode only.
  EmptyProgram: 'EMPTY_PROGRAM',
  UnsupportedVersion: 'UNSUPPORTED_VERSION',
  Truncated: 'TRUNCATED',
  UnknownOpcode: 'UNKNOWN_OPCODE',
  BadRuleHeader: 'BAD_RULE_HEADER',
  NonCanonical: 'NON_CANONICAL',
  BadJump: 'BAD_JUMP',
  StackUnderflow: 'STACK_UNDERFLOW',
  BadExpression: 'BAD_EXPRESSION',
  // Flags.
  UnknownFlags: 'UNKNOWN_FLAGS',
  AllowWithoutRequester: 'ALLOW_WITHOUT_REQUESTER',
  UnattestedEmergency: 'UNATTESTED_EMERGENCY',
  // Evaluation.
  StepBudgetExceeded: 'STEP_BUDGET_EXCEEDED',
  IntegerOverflow: 'INTEGER_OVERFLOW',
  InvalidContext: 'INVALID_CONTEXT',
  ContextFailure: 'CONTEXT_FAILURE',
  InternalError: 'INTERNAL_ERROR',
} as const;
export type PolicyErrorCode = (typeof PolicyErrorCode)[keyof typeof PolicyErrorCode];

/** One fixed message per error code. */
export const POLICY_ERROR_MESSAGES: Readonly<Record<PolicyErrorCode, string>> = {
  SOURCE_TOO_LARGE: 'policy source is too large',
  INVALID_CHARACTER: 'invalid character',
  UNTERMINATED_STRING: 'string literal is not closed',
  INVALID_ESCAPE: 'invalid escape in string literal (only \\" and \\\\ are allowed)',
  INVALID_ID_LITERAL: 'an identity is written 0x followed by exactly 64 hex digits',
  UNEXPECTED_TOKEN: 'unexpected token',
  UNKNOWN_NAME: 'unknown name',
  WRONG_ARGUMENT_COUNT: 'wrong number of arguments',
  DUPLICATE_ACTION: 'action listed twice in one rule',
  CHAINED_COMPARISON: 'comparisons cannot be chained; add parentheses',
  TYPE_MISMATCH: 'type mismatch',
  NO_RULES: 'a policy needs at least one rule',
  PROGRAM_TOO_LARGE: 'program is too large',
  TOO_MANY_RULES: 'too many rules',
  STRING_TOO_LONG: 'string is too long',
  INVALID_STRING: 'string is not valid UTF-8 or contains a control or bidirectional character',
  EMPTY_LIST: 'a list needs at least one element',
  LIST_TOO_LONG: 'list is too long',
  INTEGER_OUT_OF_RANGE: 'integer literal is out of range',
  NESTING_TOO_DEEP: 'expression is nested too deeply',
  STACK_OVERFLOW: 'expression needs too deep a value stack',
  EMPTY_PROGRAM: 'program is empty',
  UNSUPPORTED_VERSION: 'unsupported program format version',
  TRUNCATED: 'program ends in the middle of an instruction',
  UNKNOWN_OPCODE: 'unknown opcode',
  BAD_RULE_HEADER: 'invalid rule header',
  NON_CANONICAL: 'non-canonical encoding',
  BAD_JUMP: 'and/or skip does not end exactly after its right operand',
  STACK_UNDERFLOW: 'instruction needs more operands than the stack holds',
  BAD_EXPRESSION: 'rule condition must leave exactly one boolean',
  UNKNOWN_FLAGS: 'unknown policy flag bits',
  ALLOW_WITHOUT_REQUESTER: 'every alternative of an allow rule must mention requester',
  UNATTESTED_EMERGENCY: 'an allow alternative using emergency must also require attested(requester) or attested_by(requester, ...)',
  STEP_BUDGET_EXCEEDED: 'step budget exceeded',
  INTEGER_OVERFLOW: 'integer overflow',
  INVALID_CONTEXT: 'invalid evaluation context',
  CONTEXT_FAILURE: 'a context lookup failed',
  INTERNAL_ERROR: 'internal error in the policy engine',
};

/** A diagnostic: the code, its fixed message, and what was found or expected. */
export function policyErrorMessage(code: PolicyErrorCode, detail?: string): string {
  const base = POLICY_ERROR_MESSAGES[code];
  return detail === undefined || detail === '' ? base : `${base}: ${detail}`;
}

/** The detail part of a message built by policyErrorMessage ('' when there is none). */
export function policyErrorDetail(code: PolicyErrorCode, message: string): string {
  const prefix = `${POLICY_ERROR_MESSAGES[code]}: `;
  return message.startsWith(prefix) ? message.slice(prefix.length) : '';
}

/** Thrown only by APIs documented to throw (disassemble, contextFromJson); the evaluator never throws. */
export class PolicyError extends Error {
  readonly code: PolicyErrorCode;
  constructor(code: PolicyErrorCode, detail?: string) {
    super(policyErrorMessage(code, detail));
    this.name = 'PolicyError';
    this.code = code;
  }
}
