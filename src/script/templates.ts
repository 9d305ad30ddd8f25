import { compilePolicy, type CompileResult } from './compilePolicy.ts';
import { IDENTITY_PATTERN } from './context.ts';
import { PolicyError, PolicyErrorCode } from './errors.ts';
import { CURRENT_POLICY_FLAGS } from './flags.ts';

/**
 * Rules every template starts from: the owner does everything; granted doctors do what their grant's scope says,
 * but only while some hospital's attestation of them is valid (unrevoked, unexpired), so a hospital revoking a
 * doctor cuts their access to every record. Cheapest and most selective check first: most refused requesters
 * hold no grant and stop at granted(); the attestation scan comes last.
 */
const OWNER_RULE = 'allow read, write, delegate if requester == owner';
const GRANTED_DOCTOR_RULE =
  'allow read, write, delegate if granted(requester, action) and role(requester) == "doctor" and attested(requester)';
const EMERGENCY_RULE =
  'allow read if emergency and role(requester) == "doctor" and attested(requester) and purpose == "ETREAT"';

export type PolicyTemplateName = 'owner-only' | 'owner-and-granted-doctors' | 'emergency-access' | 'hospital-doctors';

/**
 * A ready-made policy. Templates with `params` have `{{name}}` placeholders in
 * `source` and no precompiled `program`; fill them with instantiatePolicyTemplate.
 */
export interface PolicyTemplate {
  readonly name: PolicyTemplateName;
  readonly summary: string;
  readonly params: readonly string[];
  readonly source: string;
  /** Bytecode compiled with CURRENT_POLICY_FLAGS, or null when params must be filled first. Do not mutate. */
  readonly program: Uint8Array | null;
}

const SOURCES: Readonly<Record<PolicyTemplateName, { summary: string; params: readonly string[]; source: string }>> = {
  'owner-only': {
    summary: 'Only the patient who owns the record may read it, add versions or share it.',
    params: [],
    source: `# Only the owner.\n${OWNER_RULE}\n`,
  },
  'owner-and-granted-doctors': {
    summary:
      'The owner, plus hospital-attested doctors holding an unexpired, unrevoked grant whose scope covers the action (the default).',
    params: [],
    source: `# The owner, and hospital-attested doctors the owner granted access to (scope and expiry come from the grant).\n${OWNER_RULE}\n${GRANTED_DOCTOR_RULE}\n`,
  },
  'emergency-access': {
    summary: 'Owner and granted attested doctors, plus break-glass reads by any hospital-attested doctor stating purpose ETREAT.',
    params: [],
    source: `# Owner and granted doctors, plus audited break-glass reads by attested doctors.\n${OWNER_RULE}\n${GRANTED_DOCTOR_RULE}\n${EMERGENCY_RULE}\n`,
  },
  'hospital-doctors': {
    summary: 'Emergency-access, plus reads by any doctor currently attested by one hospital.',
    params: ['hospital'],
    source:
      `# Emergency-access, plus any doctor attested by the hospital {{hospital}}.\n${OWNER_RULE}\n${GRANTED_DOCTOR_RULE}\n${EMERGENCY_RULE}\n` +
      'allow read if role(requester) == "doctor" and attested_by(requester, 0x{{hospital}})\n',
  },
};

function build(name: PolicyTemplateName): PolicyTemplate {
  const { summary, params, source } = SOURCES[name];
  let program: Uint8Array | null = null;
  if (params.length === 0) {
    const compiled = compilePolicy(source, CURRENT_POLICY_FLAGS);
    if (!compiled.ok) throw new Error(`policy template ${name} does not compile: ${compiled.error.message}`);
    program = compiled.program;
  }
  return Object.freeze({ name, summary, params: Object.freeze([...params]), source, program });
}

/** The templates that ship with the engine, by name. */
export const POLICY_TEMPLATES: Readonly<Record<PolicyTemplateName, PolicyTemplate>> = Object.freeze({
  'owner-only': build('owner-only'),
  'owner-and-granted-doctors': build('owner-and-granted-doctors'),
  'emergency-access': build('emergency-access'),
  'hospital-doctors': build('hospital-doctors'),
});

export const DEFAULT_POLICY_TEMPLATE: PolicyTemplateName = 'owner-and-granted-doctors';
/** Source of the policy a new record gets when its creator names none. */
export const DEFAULT_POLICY_SOURCE: string = POLICY_TEMPLATES[DEFAULT_POLICY_TEMPLATE].source;
/** Bytecode of the default policy. Shared: copy it before changing anything. */
export const DEFAULT_POLICY: Uint8Array = POLICY_TEMPLATES[DEFAULT_POLICY_TEMPLATE].program!;

/** Fills a template's identity parameters and compiles it; throws PolicyError for an unknown template or a bad parameter. */
export function instantiatePolicyTemplate(
  name: string,
  args: Readonly<Record<string, string>> = {},
  flags = CURRENT_POLICY_FLAGS,
): CompileResult & { readonly source: string } {
  if (!Object.hasOwn(POLICY_TEMPLATES, name)) {
    throw new PolicyError(PolicyErrorCode.UnknownName, `no template "${name}"; templates: ${Object.keys(POLICY_TEMPLATES).join(', ')}`);
  }
  const template = POLICY_TEMPLATES[name as PolicyTemplateName];
  for (const key of Object.keys(args)) {
    if (!template.params.includes(key)) throw new PolicyError(PolicyErrorCode.UnknownName, `template ${name} has no parameter "${key}"`);
  }
  let source = template.source;
  for (const param of template.params) {
    const value = args[param];
    // Only identities are substituted, so a parameter can never inject policy text.
    if (value === undefined || !IDENTITY_PATTERN.test(value)) {
      throw new PolicyError(PolicyErrorCode.InvalidIdLiteral, `template ${name} needs ${param}: 64 lowercase hex digits`);
    }
    source = source.replaceAll(`{{${param}}}`, value);
  }
  return { ...compilePolicy(source, flags), source };
}
