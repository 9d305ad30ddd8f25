/** The access log: every read, grant, revocation and change of the patient's records, newest first. */
import { useState } from 'preact/hooks';
import { AccountLink, BlockLink } from '../../../components/links.tsx';
import { Empty, ErrorNotice } from '../../../components/states.tsx';
import { Badge, DateTime, Notice, Section, TimeAgo } from '../../../components/ui.tsx';
import { buildTimeline, describeItem, type TimelineItem } from '../../../lib/accessLog.ts';
import { fingerprintOf } from '../../../lib/format.ts';
import type { AccountName } from '../api.ts';
import type { LabelsView } from '../shared.tsx';
import type { PatientData } from './data.ts';

const PAGE = 30;

export function AccessLogSection({ owner, data, labels }: { owner: string; data: PatientData; labels: LabelsView }) {
  const [showOwn, setShowOwn] = useState(false);
  const [limit, setLimit] = useState(PAGE);
  const contentTypes = new Map(data.records.map((r) => [r.entry.id, r.contentType]));
  if (!data.trail.ok) {
    return (
      <Section title="Access log" id="log">
        <ErrorNotice error={data.trail.error} />
      </Section>
    );
  }
  const all = buildTimeline(data.trail.value, owner);
  const items = showOwn ? all : all.filter((i) => i.kind !== 'own-read');
  const emergencies = all.filter((i) => i.kind === 'emergency');
  const ctx = {
    owner,
    name: (id: string) => data.names.get(id)?.name ?? `Account ${fingerprintOf(id)}`,
    label: (record: string) => labels.labels.labelOf(record, contentTypes.get(record) ?? ''),
  };
  return (
    <Section
      title="Access log"
      id="log"
      actions={
        <label class="toggle">
          <input type="checkbox" checked={showOwn} onChange={(e) => setShowOwn(e.currentTarget.checked)} />
          Show my own reads
        </label>
      }
    >
      <p class="muted">Every time someone opens one of your records, the chain records who, when and why, before anything is sent to them. Nobody can remove an entry.</p>
      {emergencies.length > 0 ? (
        <Notice tone="bad" title={`Emergency access to your records: ${emergencies.length}`}>
          <p>
            Emergency access (“breaking the glass”) lets a doctor attested by a hospital open a record you allowed for emergencies, without asking you first, for example when you are brought in unconscious. The doctor must state a reason, and every such access is written to the chain and shown here. If one was not justified, contact the doctor's hospital.
          </p>
        </Notice>
      ) : null}
      {items.length === 0 ? (
        <Empty title="Nothing yet">
          <p>{all.length === 0 ? 'When you add or share a record, and when someone opens one, it shows up here.' : 'Only your own reads so far.'}</p>
        </Empty>
      ) : (
        <ol class="timeline" data-testid="access-log">
          {items.slice(0, limit).map((item) => (
            <TimelineRow key={item.key} item={item} ctx={ctx} who={data.names.get(item.actor)} />
          ))}
        </ol>
      )}
      {items.length > limit ? (
        <div class="form-actions">
          <button type="button" class="button secondary small" onClick={() => setLimit(limit + PAGE)}>
            Show older entries ({items.length - limit} more)
          </button>
        </div>
      ) : null}
    </Section>
  );
}

function TimelineRow({ item, ctx, who }: { item: TimelineItem; ctx: Parameters<typeof describeItem>[1]; who: AccountName | undefined }) {
  const text = describeItem(item, ctx);
  return (
    <li class={`timeline-item timeline-${item.kind}`} data-kind={item.kind}>
      <div class="timeline-head">
        <Badge tone={text.tone}>{text.tag}</Badge>
        <span class="timeline-time">
          <DateTime ms={item.time} /> · <TimeAgo ms={item.time} />
        </span>
      </div>
      <p class="timeline-title">{text.title}</p>
      {text.detail === '' ? null : <p class="timeline-detail">{text.detail}</p>}
      <p class="timeline-meta">
        {item.actor === ctx.owner ? null : (
          <>
            <AccountLink id={item.actor} />
            {who?.detail ? ` · ${who.detail}` : ''}
            {item.height === undefined ? '' : ' · '}
          </>
        )}
        {item.height === undefined ? null : (
          <>
            block <BlockLink height={item.height} />
          </>
        )}
      </p>
    </li>
  );
}
