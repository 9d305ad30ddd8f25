/** What the patient dashboard reads: the identity, the records with their versions and holders, the trail, names. */
import { rpcCall, type IdentityJson, type MedchainRpc } from '../../../../client/rpcClient.ts';
import type { AuditTrailJson } from '../../../lib/accessLog.ts';
import { accountNames, type AccountName, type Grant, type RecordDetail, type RecordEntry } from '../api.ts';

export interface PatientRecord {
  readonly entry: RecordEntry;
  readonly detail: RecordDetail | null;
  /** Everyone who holds or held access. */
  readonly holders: readonly Grant[];
  /** The latest version's content type. */
  readonly contentType: string;
  /** Block time of the creating transaction, when the trail has it. */
  readonly createdTime?: number;
}

export interface PatientData {
  readonly identity: IdentityJson | null;
  readonly records: readonly PatientRecord[];
  /** The audit trail, or the error reading it (the rest of the page still works). */
  readonly trail: { readonly ok: true; readonly value: AuditTrailJson } | { readonly ok: false; readonly error: unknown };
  readonly names: ReadonlyMap<string, AccountName>;
}

const RECORDS_PER_BATCH = 100;

export async function loadPatient(rpc: MedchainRpc, account: string, now: number, signal: AbortSignal): Promise<PatientData> {
  const [identity, list, trail] = await rpc.batch(
    [
      rpcCall<IdentityJson | null>('identity_get', { accountId: account }),
      rpcCall<RecordEntry[]>('record_list', { account, as: 'owner' }),
      rpcCall<AuditTrailJson>('audit_trail', { subject: 'patient', id: account }),
    ] as const,
    { signal },
  );
  if (!identity.ok) throw identity.error;
  if (!list.ok) throw list.error;
  const entries = list.result;
  const records: PatientRecord[] = [];
  for (let i = 0; i < entries.length; i += RECORDS_PER_BATCH) {
    const chunk = entries.slice(i, i + RECORDS_PER_BATCH);
    const answers = await rpc.batch(
      chunk.flatMap((r) => [rpcCall<RecordDetail | null>('record_get', { recordId: r.id }), rpcCall<Grant[]>('access_list', { recordId: r.id })]),
      { signal },
    );
    chunk.forEach((entry, j) => {
      const detail = answers[2 * j]!;
      const holders = answers[2 * j + 1]!;
      const d = detail.ok ? (detail.result as RecordDetail | null) : null;
      records.push({
        entry,
        detail: d,
        holders: holders.ok ? (holders.result as Grant[]) : [],
        contentType: d?.versions[d.versions.length - 1]?.contentType ?? 'application/octet-stream',
      });
    });
  }
  const created = new Map<string, number>();
  if (trail.ok) for (const e of trail.result.entries) if (e.action === 'record.create') created.set(e.record, e.time);
  const withTimes = records.map((r) => (created.has(r.entry.id) ? { ...r, createdTime: created.get(r.entry.id)! } : r));
  const people = new Set<string>();
  for (const r of records) for (const h of r.holders) people.add(h.grantee);
  if (trail.ok) {
    for (const e of trail.result.entries) {
      people.add(e.actor);
      if (e.grantee !== undefined) people.add(e.grantee);
    }
    for (const d of trail.result.deniedReads) people.add(d.requester);
  }
  people.delete(account);
  const names = await accountNames(rpc, people, now, signal);
  return {
    identity: identity.result,
    // Newest first: what was just added is what the patient looks for.
    records: withTimes.sort((a, b) => b.entry.createdAt - a.entry.createdAt),
    trail: trail.ok ? { ok: true, value: trail.result } : { ok: false, error: trail.error },
    names,
  };
}
