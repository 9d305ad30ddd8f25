/** Loading and running test/vectors/policy-vectors.json, shared by the vector test and the property tests. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fromHex } from '../../../src/codec/bytes.ts';
import {
  compilePolicy,
  contextFromJson,
  CURRENT_POLICY_FLAGS,
  evaluatePolicy,
  NO_POLICY_FLAGS,
  PolicyError,
  policyFlagsFromNames,
  type CompileResult,
  type PolicyContext,
  type PolicyDecision,
  type PolicyFlags,
} from '../../../src/script/index.ts';
import type { Fragment, PolicyVector } from './makePolicyVectors.ts';

export interface VectorFile {
  contexts: Record<string, Record<string, unknown>>;
  cases: PolicyVector[];
}

export function loadPolicyVectors(): VectorFile {
  const path = fileURLToPath(new URL('../../vectors/policy-vectors.json', import.meta.url));
  return JSON.parse(readFileSync(path, 'utf8')) as VectorFile;
}

export function expand(text: string | Fragment[]): string {
  if (typeof text === 'string') return text;
  return text.map((f) => (typeof f === 'string' ? f : f[0].repeat(f[1]))).join('');
}

export function flagsOf(flags: PolicyVector['flags']): PolicyFlags {
  if (flags === undefined || flags === 'none') return NO_POLICY_FLAGS;
  if (flags === 'current') return CURRENT_POLICY_FLAGS;
  if (typeof flags === 'number') return flags;
  const parsed = policyFlagsFromNames(flags);
  if (parsed === undefined) throw new Error(`unknown flag name in ${flags.join(',')}`);
  return parsed;
}

export type ContextOutcome = { ok: true; context: PolicyContext } | { ok: false; decision: PolicyDecision };

export function contextOf(file: VectorFile, v: PolicyVector): ContextOutcome {
  const base = typeof v.context === 'string' || v.context === undefined ? file.contexts[v.context ?? 'world'] : v.context;
  if (base === undefined) throw new Error(`unknown context ${String(v.context)}`);
  try {
    return { ok: true, context: contextFromJson({ ...base, ...(v.with ?? {}) }) };
  } catch (error) {
    if (!(error instanceof PolicyError)) throw error;
    return { ok: false, decision: { decision: 'error', code: error.code, message: error.message } };
  }
}

/** The program a vector runs: compiled source or decoded hex. */
export function programOf(v: PolicyVector): { compiled: CompileResult | null; program: Uint8Array | null } {
  if (v.hex !== undefined) {
    const program = fromHex(expand(v.hex));
    if (program === undefined) throw new Error(`${v.name}: bad hex`);
    return { compiled: null, program };
  }
  const compiled = compilePolicy(expand(v.source ?? ''), flagsOf(v.compileFlags ?? v.flags));
  return { compiled, program: compiled.ok ? compiled.program : null };
}

export function run(file: VectorFile, v: PolicyVector, program: Uint8Array): PolicyDecision {
  const context = contextOf(file, v);
  return context.ok ? evaluatePolicy(program, context.context, flagsOf(v.flags)) : context.decision;
}
