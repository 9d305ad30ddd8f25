/** One stored identity: who it is, whether it is unlocked and registered, and what can be done with it. */
import { useState } from 'preact/hooks';
import { Link } from '../../lib/router.tsx';
import { ErrorNotice } from '../../components/states.tsx';
import { Badge, DateTime, Fields, HexWithCopy, Notice } from '../../components/ui.tsx';
import { identityFingerprint, type IdentityFile } from '../../keystore.ts';
import { useFeed, useQuery } from '../../lib/hooks.ts';
import { clientFor, downloadBackup, lockIdentity, removeIdentity } from '../../lib/identityActions.ts';
import { useServices } from '../../lib/services.ts';
import { UnlockForm } from './UnlockForm.tsx';

export function IdentityCard({ file, unlocked }: { file: IdentityFile; unlocked: boolean }) {
  const services = useServices();
  const feed = useFeed();
  const [unlocking, setUnlocking] = useState(false);
  const [removing, setRemoving] = useState(false);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const onChain = useQuery((signal) => services.rpc.getIdentity(file.publicKey, { signal }), [file.publicKey], { live: busy !== null });

  const register = async (role: 'patient' | 'doctor'): Promise<void> => {
    const chainId = feed.node?.chainId;
    const client = chainId === undefined ? undefined : clientFor(services, file.publicKey, chainId);
    if (client === undefined) return;
    setError(null);
    setBusy(`Registering as ${role}… (waiting for a block)`);
    try {
      await client.register(role);
      onChain.reload();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(null);
    }
  };

  const identity = onChain.state.status === 'ok' ? onChain.state.data : undefined;
  const dashboard = identity?.role === 'patient' || identity?.role === 'doctor' || identity?.role === 'hospital' ? identity.role : file.role;

  return (
    <li class="card identity-card" data-testid="identity-card" data-fingerprint={identityFingerprint(file)}>
      <header class="card-header">
        <h3 class="card-title">
          <span class="identity-label">{file.label}</span> {unlocked ? <Badge tone="good">Unlocked</Badge> : <Badge tone="neutral">Locked</Badge>}
        </h3>
        <code class="fingerprint">{identityFingerprint(file)}</code>
      </header>
      <div class="card-body">
        <Fields
          rows={[
            ['On the chain', onChain.state.status === 'loading' ? 'checking…' : onChain.state.status === 'error' ? 'unknown (node unreachable)' : identity === null ? <Badge tone="warn">Not registered</Badge> : <Badge tone="info">{identity?.role ?? ''}</Badge>],
            ['Meant for', file.role ?? 'any dashboard'],
            ['Created', <DateTime ms={Date.parse(file.createdAt)} />],
            ['Account key', <HexWithCopy value={file.publicKey} />],
          ]}
        />
        {error === null ? null : <ErrorNotice error={error} compact />}
        {busy === null ? null : (
          <p class="state state-loading" role="status">
            <span class="spinner" aria-hidden="true" />
            {busy}
          </p>
        )}
        {unlocking && !unlocked ? <UnlockForm file={file} onDone={() => setUnlocking(false)} /> : null}
        {removing ? (
          <Notice tone="bad" title={`Remove ${file.label} from this browser?`}>
            <p>Without a backup file, this key is gone for good, and with it access to every record it holds. Nobody can recover it.</p>
            <div class="form-actions">
              <button type="button" class="button danger" onClick={() => removeIdentity(services, file.publicKey)}>
                Remove for good
              </button>
              <button type="button" class="button secondary" onClick={() => setRemoving(false)}>
                Keep it
              </button>
            </div>
          </Notice>
        ) : null}
        <div class="form-actions">
          {unlocked ? (
            <button type="button" class="button secondary" onClick={() => lockIdentity(services, file.publicKey)}>
              Lock
            </button>
          ) : unlocking ? null : (
            <button type="button" class="button primary" onClick={() => setUnlocking(true)}>
              Unlock
            </button>
          )}
          <button type="button" class="button secondary" onClick={() => downloadBackup(file)}>
            Download backup
          </button>
          {unlocked && identity === null && busy === null ? (
            <>
              <button type="button" class="button secondary" onClick={() => void register('patient')}>
                Register as patient
              </button>
              <button type="button" class="button secondary" onClick={() => void register('doctor')}>
                Register as doctor
              </button>
            </>
          ) : null}
          {dashboard === null ? null : (
            <Link to={{ page: dashboard }} class="button ghost">
              Open {dashboard} dashboard
            </Link>
          )}
          {removing ? null : (
            <button type="button" class="button ghost danger-text" onClick={() => setRemoving(true)}>
              Remove…
            </button>
          )}
        </div>
      </div>
    </li>
  );
}
