/**
 * Add a version to a record (a doctor the patient allowed to write, or the owner): checked and encrypted in this
 * browser with a new key, wrapped for the owner, the author and everyone who holds access now.
 */
import { useState } from 'preact/hooks';
import { fromHex } from '../../../codec/bytes.ts';
import { ActionProgress, useAction, type StepDef } from '../../components/Progress.tsx';
import { ErrorNotice, Loading } from '../../components/states.tsx';
import { Notice } from '../../components/ui.tsx';
import type { IdentityFile } from '../../keystore.ts';
import { useFeed, useQuery } from '../../lib/hooks.ts';
import { useServices } from '../../lib/services.ts';
import { reportingClient, type AccessDecision, type Grant } from './api.ts';
import { RecordInput, type PreparedRecord } from './RecordInput.tsx';
import { UPLOAD_STEPS } from './shared.tsx';

const VERSION_STEPS: readonly StepDef[] = [{ label: 'Finding who holds access now', methods: ['access_list'] }, ...UPLOAD_STEPS];

export function AddVersion({ file, recordId, onAdded, onCancel }: { file: IdentityFile; recordId: string; onAdded: (version: number) => void; onCancel: () => void }) {
  const services = useServices();
  const feed = useFeed();
  const [prepared, setPrepared] = useState<PreparedRecord | null>(null);
  const action = useAction(VERSION_STEPS);
  // The record's policy decides; this asks it (nothing is recorded) before any work is done.
  const check = useQuery((signal) => services.rpc.call<AccessDecision>('access_check', { recordId, requester: file.publicKey, action: 'write' }, { signal }), [recordId, file.publicKey]);

  const add = (): void => {
    if (prepared === null) return;
    void action.run(async (onCall) => {
      onCall('access_list');
      const holders = await services.rpc.call<Grant[]>('access_list', { recordId });
      const readers = holders.filter((h) => h.active && h.grantee !== file.publicKey).map((h) => fromHex(h.grantee)!);
      const version = await reportingClient(services, file.publicKey, feed.node?.chainId, onCall).addVersion(recordId, prepared.bytes, prepared.contentType, readers);
      onAdded(version);
    });
  };

  if (check.state.status === 'loading') return <Loading label="Checking whether you may add versions…" />;
  if (check.state.status === 'error') return <ErrorNotice error={check.state.error} onRetry={check.reload} compact />;
  if (check.state.data.decision !== 'allow') {
    return (
      <Notice tone="warn" title="You may not add versions to this record">
        <p>The record's access rules do not allow it for you now. The patient can share it with you again with permission to add versions.</p>
      </Notice>
    );
  }
  return (
    <form
      class="form"
      data-testid="add-version"
      onSubmit={(event) => {
        event.preventDefault();
        add();
      }}
    >
      <p class="muted">The new version is encrypted here with a new key, readable by the patient, you, and whoever holds access now. Earlier versions stay as they are.</p>
      <RecordInput onChange={setPrepared} disabled={action.busy} />
      <ActionProgress steps={VERSION_STEPS} action={action} onRetry={add} />
      <div class="form-actions">
        <button type="submit" class="button primary" disabled={prepared === null || action.busy}>
          {action.busy ? 'Adding…' : 'Encrypt and add version'}
        </button>
        <button type="button" class="button ghost" onClick={onCancel} disabled={action.busy}>
          Cancel
        </button>
      </div>
    </form>
  );
}
