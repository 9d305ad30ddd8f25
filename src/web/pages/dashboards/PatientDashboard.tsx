/**
 * The patient dashboard: personal information, records (add, open, rename, erase), sharing with a doctor,
 * who holds access (revoke), and the access log. Live: activity on the patient's account (a read, a grant,
 * a revocation) reloads what it shows.
 */
import { useState } from 'preact/hooks';
import { IdentityGate } from '../../components/IdentityGate.tsx';
import { QueryView } from '../../components/states.tsx';
import { Notice, Page, Section } from '../../components/ui.tsx';
import type { IdentityFile } from '../../keystore.ts';
import { useQuery } from '../../lib/hooks.ts';
import { useServices } from '../../lib/services.ts';
import { AccessSection } from './patient/AccessHolders.tsx';
import { AccessLogSection } from './patient/AccessLog.tsx';
import { AddRecord } from './patient/AddRecord.tsx';
import { loadPatient } from './patient/data.ts';
import { PersonalInfoSection } from './patient/PersonalInfo.tsx';
import { RecordList } from './patient/RecordList.tsx';
import { ShareSection } from './patient/ShareRecord.tsx';
import { IdentitySummary, NotRegistered, useRecordLabels, useReloadOnActivity } from './shared.tsx';

export function PatientDashboard() {
  return (
    <Page title="Patient" subtitle="Your medical records, encrypted in this browser, shared only with whom you choose, and every read on record.">
      <IdentityGate role="patient">{(file) => <PatientHome file={file} key={file.publicKey} />}</IdentityGate>
    </Page>
  );
}

function PatientHome({ file }: { file: IdentityFile }) {
  const { rpc, now } = useServices();
  const query = useQuery((signal) => loadPatient(rpc, file.publicKey, now(), signal), [file.publicKey]);
  useReloadOnActivity(file.publicKey, query.reload);
  const labels = useRecordLabels();
  const [adding, setAdding] = useState(false);
  const [added, setAdded] = useState<string | null>(null);
  const [shareRecord, setShareRecord] = useState<string | null>(null);
  const reload = query.reload;

  return (
    <QueryView query={query} loading="Reading your records…">
      {(data) => (
        <>
          {data.identity === null ? <NotRegistered file={file} role="patient" onRegistered={reload} /> : null}
          {data.identity !== null && data.identity.role !== 'patient' ? (
            <Notice tone="warn" title={`${file.label} is registered as a ${data.identity.role}`}>
              <p>Only patients own records. Choose or create a patient identity.</p>
            </Notice>
          ) : null}
          <nav class="jump" aria-label="On this page">
            <a href="#personal">About you</a>
            <a href="#records">Records</a>
            <a href="#share">Share</a>
            <a href="#access">Who has access</a>
            <a href="#log">Access log</a>
          </nav>
          <PersonalInfoSection file={file} records={data.records} labels={labels} onSaved={reload} />
          <Section
            title={`Your records (${data.records.length})`}
            id="records"
            actions={
              adding ? null : (
                <button type="button" class="button primary small" onClick={() => { setAdded(null); setAdding(true); }} disabled={data.identity === null}>
                  Add a record
                </button>
              )
            }
          >
            {added === null ? null : (
              <Notice tone="good" title="Record added">
                <p data-testid="record-added">“{added}” is encrypted and stored. Only you can open it until you share it.</p>
              </Notice>
            )}
            <RecordList
              file={file}
              records={data.records}
              labels={labels}
              onChanged={reload}
              onShare={(id) => {
                setShareRecord(id);
                document.getElementById('share')?.scrollIntoView({ behavior: 'smooth', block: 'start' });
              }}
            />
          </Section>
          {adding ? (
            <AddRecord
              file={file}
              labels={labels}
              onCancel={() => setAdding(false)}
              onAdded={(_, label) => {
                setAdding(false);
                setAdded(label);
                reload();
              }}
            />
          ) : null}
          <div class="columns dashboard-columns">
            <ShareSection file={file} records={data.records} labels={labels} recordId={shareRecord} onRecordChange={setShareRecord} onShared={reload} />
            <AccessSection file={file} records={data.records} names={data.names} labels={labels} onChanged={reload} />
          </div>
          <AccessLogSection owner={file.publicKey} data={data} labels={labels} />
          <IdentitySummary file={file} identity={data.identity} />
        </>
      )}
    </QueryView>
  );
}
