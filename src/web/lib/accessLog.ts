/**
 * A patient's access log: the audit trail of their records (audit_trail, subject patient) and the reads this
 * node refused, as a timeline of plain sentences, newest first. Pure: names and record labels come in as
 * functions, so the page decides how accounts are called.
 */
import type { Tone } from './tone.ts';
import { formatDateTime, NO_EXPIRY_MS, PURPOSES } from './format.ts';

/** One entry of audit_trail (src/rpc/methods/emrMethods.ts). */
export interface AuditEntryJson {
  readonly record: string;
  readonly txId: string;
  readonly action: string;
  readonly actor: string;
  readonly actorFingerprint: string;
  readonly time: number;
  readonly height: number;
  readonly blockHash: string;
  readonly version?: number;
  readonly purpose?: string;
  readonly emergency?: boolean;
  readonly reason?: string;
  readonly grantee?: string;
  readonly scope?: readonly string[];
  readonly expiresAt?: number | null;
}

/** A read this node refused (never on chain). */
export interface DeniedReadJson {
  readonly record: string;
  readonly time: number;
  readonly requester: string;
  readonly version: number;
  readonly purpose: string;
  readonly emergency: boolean;
  readonly reason: string;
  readonly code: string;
}

export interface AuditTrailJson {
  readonly entries: readonly AuditEntryJson[];
  readonly deniedReads: readonly DeniedReadJson[];
}

export type TimelineKind = 'read' | 'own-read' | 'emergency' | 'grant' | 'revoke' | 'create' | 'version' | 'erase' | 'policy' | 'denied' | 'other';

export interface TimelineItem {
  readonly key: string;
  readonly kind: TimelineKind;
  readonly time: number;
  readonly record: string;
  /** Who acted (the reader, the granter, the requester of a refused read). */
  readonly actor: string;
  readonly txId?: string;
  readonly height?: number;
  readonly version?: number;
  readonly purpose?: string;
  readonly reason?: string;
  readonly grantee?: string;
  readonly scope?: readonly string[];
  readonly expiresAt?: number | null;
  /** A refused read: the node's reason code. */
  readonly code?: string;
  readonly emergency?: boolean;
}

function kindOf(entry: AuditEntryJson, owner: string): TimelineKind {
  switch (entry.action) {
    case 'access.read':
      if (entry.emergency === true) return 'emergency';
      return entry.actor === owner ? 'own-read' : 'read';
    case 'access.grant':
      return 'grant';
    case 'access.revoke':
      return 'revoke';
    case 'record.create':
      return 'create';
    case 'record.addVersion':
      return 'version';
    case 'record.erase':
      return 'erase';
    case 'record.setPolicy':
      return 'policy';
    default:
      return 'other';
  }
}

/** The trail and refused reads as one timeline, newest first. */
export function buildTimeline(trail: AuditTrailJson, owner: string): TimelineItem[] {
  const items: TimelineItem[] = trail.entries.map((e) => ({
    key: e.txId,
    kind: kindOf(e, owner),
    time: e.time,
    record: e.record,
    actor: e.actor,
    txId: e.txId,
    height: e.height,
    ...(e.version !== undefined ? { version: e.version } : {}),
    ...(e.purpose !== undefined ? { purpose: e.purpose } : {}),
    ...(e.reason !== undefined && e.reason !== '' ? { reason: e.reason } : {}),
    ...(e.grantee !== undefined ? { grantee: e.grantee } : {}),
    ...(e.scope !== undefined ? { scope: e.scope } : {}),
    ...(e.expiresAt !== undefined ? { expiresAt: e.expiresAt } : {}),
    ...(e.emergency === true ? { emergency: true } : {}),
  }));
  trail.deniedReads.forEach((d, i) =>
    items.push({
      key: `denied-${d.time}-${d.requester}-${i}`,
      kind: 'denied',
      time: d.time,
      record: d.record,
      actor: d.requester,
      version: d.version,
      purpose: d.purpose,
      ...(d.reason !== '' ? { reason: d.reason } : {}),
      code: d.code,
      emergency: d.emergency,
    }),
  );
  // Newest first; within one block, later transactions first (the trail lists them in chain order).
  const order = new Map(items.map((item, i) => [item, i]));
  return items.sort((a, b) => b.time - a.time || (b.height ?? 0) - (a.height ?? 0) || order.get(b)! - order.get(a)!);
}

/** "treatment (TREAT)"; an unknown code as written. */
export function purposeText(purpose: string | undefined): string {
  if (purpose === undefined || purpose === '') return 'no stated purpose';
  const known = PURPOSES[purpose];
  return known === undefined ? purpose : `${known} (${purpose})`;
}

export function scopeText(scope: readonly string[] | undefined): string {
  const s = new Set(scope ?? []);
  const parts = [s.has('read') ? 'read it' : '', s.has('write') ? 'add new versions' : '', s.has('delegate') ? 'share it further' : ''].filter((p) => p !== '');
  if (parts.length === 0) return 'no actions';
  return parts.length === 1 ? parts[0]! : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

/** "until 3 Apr 2026, 10:00" or "with no end date". */
export function expiryText(expiresAt: number | null | undefined): string {
  if (expiresAt === null || expiresAt === undefined || expiresAt >= NO_EXPIRY_MS) return 'with no end date (until revoked)';
  return `until ${formatDateTime(expiresAt)}`;
}

export interface DescribeContext {
  /** What to call an account ("Dr. Ana Silva, St. Mary's"); the owner is "You". */
  name(account: string): string;
  /** The record's name as the patient knows it. */
  label(record: string): string;
  readonly owner: string;
}

export interface ItemText {
  readonly title: string;
  readonly detail: string;
  readonly tone: Tone;
  /** Short tag for the kind of event. */
  readonly tag: string;
}

/** Why a read was refused, told to the patient (NODE_REASONS speak to the requester). */
const REFUSALS_FOR_PATIENT: Readonly<Record<string, string>> = {
  GRANT_REVOKED: 'Their access had been revoked.',
  GRANT_EXPIRED: 'Their access had expired.',
  NO_GRANT: 'The record was not shared with them.',
  SCOPE_NOT_GRANTED: 'Their access does not cover this.',
  NOT_ATTESTED: 'No hospital attests them as a doctor.',
  ATTESTATION_REVOKED: 'Their hospital had withdrawn their attestation.',
  EMERGENCY_REFUSED: 'This record does not allow emergency access.',
  EMERGENCY_REASON_REQUIRED: 'They gave no reason for an emergency access.',
  ACCESS_DENIED: "The record's access rules do not allow it.",
  READ_DENIED: "The record's access rules do not allow it.",
  RECORD_ERASED: 'The record was erased.',
};

/** One timeline item in plain words. */
export function describeItem(item: TimelineItem, ctx: DescribeContext): ItemText {
  const who = item.actor === ctx.owner ? 'You' : ctx.name(item.actor);
  const what = `“${ctx.label(item.record)}”`;
  const version = item.version === undefined ? '' : ` (version ${item.version + 1})`;
  switch (item.kind) {
    case 'read':
      return { tag: 'Read', tone: 'info', title: `${who} opened ${what}${version}`, detail: `Purpose: ${purposeText(item.purpose)}.` };
    case 'own-read':
      return {
        tag: 'Your access',
        tone: 'neutral',
        title: item.purpose === 'PATADMIN' ? `Your browser unlocked ${what}${version} to share it` : `You opened ${what}${version}`,
        detail: item.purpose === 'PATADMIN' ? 'Sharing re-encrypts the record key for the person you share with; that is an access of your own.' : `Purpose: ${purposeText(item.purpose)}.`,
      };
    case 'emergency':
      return {
        tag: 'Emergency access',
        tone: 'bad',
        title: `${who} used emergency access to open ${what}${version}`,
        detail: `Reason given: “${item.reason ?? 'none'}”. Purpose: ${purposeText(item.purpose)}.`,
      };
    case 'grant':
      return {
        tag: 'Shared',
        tone: 'good',
        title: `${who} shared ${what} with ${item.grantee === undefined ? 'someone' : ctx.name(item.grantee)}`,
        detail: `They may ${scopeText(item.scope)}, ${expiryText(item.expiresAt)}.`,
      };
    case 'revoke':
      return {
        tag: 'Revoked',
        tone: 'neutral',
        title: `${who} stopped ${item.grantee === undefined ? 'someone' : ctx.name(item.grantee)}'s access to ${what}`,
        detail: 'From this point on the node refuses to serve the record to them.',
      };
    case 'create':
      return { tag: 'Added', tone: 'neutral', title: `${who} added ${what}`, detail: 'Encrypted in the browser before upload.' };
    case 'version':
      return { tag: 'New version', tone: 'info', title: `${who} added a new version of ${what}${version}`, detail: 'Encrypted with a new key for the people who hold access now.' };
    case 'erase':
      return { tag: 'Erased', tone: 'warn', title: `${who} erased ${what}`, detail: 'Its encrypted data and keys were deleted from every node.' };
    case 'policy':
      return { tag: 'Rules changed', tone: 'info', title: `The access rules of ${what} changed`, detail: '' };
    case 'denied': {
      const reason = item.code === undefined ? undefined : REFUSALS_FOR_PATIENT[item.code];
      return {
        tag: item.emergency === true ? 'Refused emergency attempt' : 'Refused',
        tone: 'warn',
        title: `${who} tried to open ${what} and was refused`,
        detail: `${reason ?? item.code ?? 'Refused.'} Nothing was sent to them. (Seen by this node; refusals are not written to the chain.)`,
      };
    }
    default:
      return { tag: 'Other', tone: 'neutral', title: `${who} changed ${what}`, detail: '' };
  }
}
