/**
 * Permission-script engine: a small, pure policy language for medical records.
 * Source compiles to versioned bytecode; checkProgram validates bytecode fully;
 * evaluatePolicy decides allow / deny / error from an injected context.
 * See docs/policy-language.md.
 */
export type { Expr, PolicyAst, PolicyRule, RuleEffect } from './ast.ts';
export { checkProgram, type ProgramCheckError, type ProgramCheckResult, type ProgramInfo } from './checkProgram.ts';
export { compilePolicy, type CompileError, type CompileResult } from './compilePolicy.ts';
export {
  contextFromJson,
  POLICY_ACTIONS,
  type AttestationView,
  type GrantView,
  type PolicyAction,
  type PolicyContext,
} from './context.ts';
export { decodeProgram } from './decodeProgram.ts';
export { disassemble, formatPolicy } from './disassemble.ts';
export { POLICY_ERROR_MESSAGES, PolicyError, PolicyErrorCode, policyErrorDetail, policyErrorMessage } from './errors.ts';
export { evaluatePolicy, type PolicyDecision } from './evaluatePolicy.ts';
export {
  CURRENT_POLICY_FLAGS,
  KNOWN_POLICY_FLAGS,
  NO_POLICY_FLAGS,
  POLICY_FLAG_VERSIONS,
  PolicyFlag,
  policyFlagNames,
  policyFlagsAtVersion,
  policyFlagsFromNames,
  type PolicyFlagName,
  type PolicyFlags,
} from './flags.ts';
export {
  MAX_INTEGER,
  MAX_LIST_LENGTH,
  MAX_NESTING_DEPTH,
  MAX_PROGRAM_BYTES,
  MAX_RULES,
  MAX_SOURCE_BYTES,
  MAX_STACK_DEPTH,
  MAX_STEPS,
  MAX_STRING_BYTES,
  POLICY_FORMAT_VERSION,
} from './limits.ts';
export { IN_ELEMENT_COST, LOOKUP_COST, OPCODE_COSTS, Op, RULE_COST } from './opcodes.ts';
export {
  DEFAULT_POLICY,
  DEFAULT_POLICY_SOURCE,
  DEFAULT_POLICY_TEMPLATE,
  instantiatePolicyTemplate,
  POLICY_TEMPLATES,
  type PolicyTemplate,
  type PolicyTemplateName,
} from './templates.ts';
