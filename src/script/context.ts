import { PolicyError, PolicyErrorCode } from './errors.ts';
import { MAX_STRING_BYTES } from './limits.ts';
import { utf8 } from '../codec/bytes.ts';
import type { Role } from '../types/identity.ts';
import { ACCESS_ACTIONS, type AccessAction } from '../types/record.ts';

/** What a requester asks to do with a record: the domain's access actions. */
export type PolicyAction = AccessAction;
export const POLICY_ACTIONS: readonly PolicyAction[] = ACCESS_ACTIONS;

/** A hospital's attestation of a doctor, as the policy sees it. Times are block time in ms. */
export interface AttestationView {
  /** The attesting hospital: 64 lowercase hex digits. */
  readonly hospital: string;
  readonly expiresAt: number;
  readonly revoked: boolean;
}

/** The record owner's grant to one identity. `expiresAt` null means no expiry. */
export interface GrantView {
  readonly scope: readonly PolicyAction[];
  readonly expiresAt: number | null;
  readonly revoked: boolean;
}

/**
 * Everything a policy can see, injected by the caller (like Bitcoin Core's
 * signature checker): plain fields plus lookups, so the state transition can
 * back the lookups with chain state. Identities are 64 lowercase hex digits;
 * `time` is block time in ms since the Unix epoch; all numbers are safe
 * non-negative integers. Lookups must be deterministic and must not throw
 * (a throw becomes CONTEXT_FAILURE, which callers must treat as a local fault).
 */
export interface PolicyContext {
  readonly requester: string;
  readonly owner: string;
  readonly action: PolicyAction;
  readonly height: number;
  readonly time: number;
  /** Declared purpose of use, e.g. an HL7 PurposeOfUse code such as "TREAT" or "ETREAT"; "" if none. */
  readonly purpose: string;
  /** The request invokes break-glass emergency access. */
  readonly emergency: boolean;
  roleOf(id: string): Role | null;
  attestationsOf(id: string): readonly AttestationView[];
  grantOf(id: string): GrantView | null;
}

export const IDENTITY_PATTERN = /^[0-9a-f]{64}$/;

// JSON shape: { requester, owner, action, height, time, purpose?: "", emergency?: false,
//   roles?: { id: role }, attestations?: { id: [{ hospital, expiresAt, revoked?: false }] },
//   grants?: { id: { scope: [action], expiresAt?: null, revoked?: false } } }
/** Context from plain JSON (vectors, `medchain policy eval`); throws PolicyError(INVALID_CONTEXT) naming the first bad field. */
export function contextFromJson(json: unknown): PolicyContext {
  const root = object(json, 'context', ['requester', 'owner', 'action', 'height', 'time', 'purpose', 'emergency', 'roles', 'attestations', 'grants']);
  const roles = new Map<string, Role>();
  for (const [id, value] of entries(root.roles, 'context.roles')) {
    roles.set(id, oneOf(value, `context.roles.${id}`, ['patient', 'doctor', 'hospital'] as const));
  }
  const attestations = new Map<string, AttestationView[]>();
  for (const [id, value] of entries(root.attestations, 'context.attestations')) {
    if (!Array.isArray(value)) throw invalid(`context.attestations.${id}`, 'expected an array of attestations');
    attestations.set(
      id,
      value.map((item: unknown, i: number) => {
        const field = `context.attestations.${id}[${i}]`;
        const a = object(item, field, ['hospital', 'expiresAt', 'revoked']);
        return {
          hospital: identity(a.hospital, `${field}.hospital`),
          expiresAt: safeInteger(a.expiresAt, `${field}.expiresAt`),
          revoked: a.revoked === undefined ? false : boolean(a.revoked, `${field}.revoked`),
        };
      }),
    );
  }
  const grants = new Map<string, GrantView>();
  for (const [id, value] of entries(root.grants, 'context.grants')) {
    const field = `context.grants.${id}`;
    const g = object(value, field, ['scope', 'expiresAt', 'revoked']);
    if (!Array.isArray(g.scope)) throw invalid(`${field}.scope`, 'expected an array of actions');
    grants.set(id, {
      scope: g.scope.map((s: unknown, i: number) => oneOf(s, `${field}.scope[${i}]`, POLICY_ACTIONS)),
      expiresAt: g.expiresAt === undefined || g.expiresAt === null ? null : safeInteger(g.expiresAt, `${field}.expiresAt`),
      revoked: g.revoked === undefined ? false : boolean(g.revoked, `${field}.revoked`),
    });
  }
  const purpose = root.purpose === undefined ? '' : text(root.purpose, 'context.purpose');
  const noAttestations: readonly AttestationView[] = [];
  return Object.freeze({
    requester: identity(root.requester, 'context.requester'),
    owner: identity(root.owner, 'context.owner'),
    action: oneOf(root.action, 'context.action', POLICY_ACTIONS),
    height: safeInteger(root.height, 'context.height'),
    time: safeInteger(root.time, 'context.time'),
    purpose,
    emergency: root.emergency === undefined ? false : boolean(root.emergency, 'context.emergency'),
    roleOf: (id: string) => roles.get(id) ?? null,
    attestationsOf: (id: string) => attestations.get(id) ?? noAttestations,
    grantOf: (id: string) => grants.get(id) ?? null,
  });
}

function invalid(field: string, detail: string): PolicyError {
  return new PolicyError(PolicyErrorCode.InvalidContext, `${field}: ${detail}`);
}

function object(value: unknown, field: string, allowed: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(field, 'expected an object');
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw invalid(field, `unknown field "${key}"; allowed: ${allowed.join(', ')}`);
  }
  return value as Record<string, unknown>;
}

/** Entries of an optional id-keyed map, each key checked to be an identity. */
function entries(value: unknown, field: string): [string, unknown][] {
  if (value === undefined) return [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(field, 'expected an object keyed by identity');
  const out = Object.entries(value);
  for (const [key] of out) identity(key, `${field} key "${key.length > 80 ? `${key.slice(0, 80)}...` : key}"`);
  return out;
}

function identity(value: unknown, field: string): string {
  if (typeof value !== 'string' || !IDENTITY_PATTERN.test(value)) throw invalid(field, 'expected an identity: 64 lowercase hex digits');
  return value;
}

function safeInteger(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalid(field, 'expected an integer from 0 to 2^53 - 1');
  }
  return value;
}

function boolean(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw invalid(field, 'expected true or false');
  return value;
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string') throw invalid(field, 'expected a string');
  if (!value.isWellFormed() || utf8(value).length > MAX_STRING_BYTES) {
    throw invalid(field, `expected well-formed text of at most ${MAX_STRING_BYTES} UTF-8 bytes`);
  }
  return value;
}

function oneOf<T extends string>(value: unknown, field: string, options: readonly T[]): T {
  if (typeof value !== 'string' || !(options as readonly string[]).includes(value)) {
    throw invalid(field, `expected one of ${options.map((o) => `"${o}"`).join(', ')}`);
  }
  return value as T;
}
