/**
 * Rule flags, as in Bitcoin Core's SCRIPT_VERIFY_*: each flag only removes
 * programs from the accepted set (or allows from the answers), never adds any.
 * A chain turns a flag on at some height; blocks below it keep validating
 * exactly as before, so adding a rule never rewrites history.
 */
export const PolicyFlag = {
  /** Every alternative (operand of the top-level `or` chain) of an allow rule must mention `requester`. */
  RequesterBoundAllow: 1 << 0,
  /** An allow alternative that mentions `emergency` must also have `attested(requester)` or `attested_by(requester, ...)` as a top-level `and` operand. */
  AttestedEmergency: 1 << 1,
} as const;
export type PolicyFlagName = keyof typeof PolicyFlag;

/** A set of PolicyFlag bits. */
export type PolicyFlags = number;

export const NO_POLICY_FLAGS: PolicyFlags = 0;

/** All bits this engine knows; any other bit makes checkProgram fail with UNKNOWN_FLAGS. */
export const KNOWN_POLICY_FLAGS: PolicyFlags = PolicyFlag.RequesterBoundAllow | PolicyFlag.AttestedEmergency;

/** Flag sets by rule version: each version is a superset of the one before. */
export const POLICY_FLAG_VERSIONS: readonly PolicyFlags[] = [
  NO_POLICY_FLAGS,
  PolicyFlag.RequesterBoundAllow | PolicyFlag.AttestedEmergency,
];

/** The flags new chains and the CLI use by default. */
export const CURRENT_POLICY_FLAGS: PolicyFlags = POLICY_FLAG_VERSIONS[POLICY_FLAG_VERSIONS.length - 1]!;

/** Flag set of rule version `version` (0 = no flags); undefined for an unknown version. */
export function policyFlagsAtVersion(version: number): PolicyFlags | undefined {
  return POLICY_FLAG_VERSIONS[version];
}

/** Flag names set in `flags`, in bit order (unknown bits are left out). */
export function policyFlagNames(flags: PolicyFlags): PolicyFlagName[] {
  const names: PolicyFlagName[] = [];
  for (const name of Object.keys(PolicyFlag) as PolicyFlagName[]) {
    if ((flags & PolicyFlag[name]) !== 0) names.push(name);
  }
  return names;
}

/** Flags from names such as `RequesterBoundAllow` or `REQUESTER_BOUND_ALLOW`; undefined if a name is unknown. */
export function policyFlagsFromNames(names: readonly string[]): PolicyFlags | undefined {
  let flags = 0;
  for (const raw of names) {
    const key = normaliseFlagName(raw);
    const match = (Object.keys(PolicyFlag) as PolicyFlagName[]).find((n) => normaliseFlagName(n) === key);
    if (match === undefined) return undefined;
    flags |= PolicyFlag[match];
  }
  return flags;
}

function normaliseFlagName(name: string): string {
  return name.replace(/[_-]/g, '').toLowerCase();
}
