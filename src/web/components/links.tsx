/** Links to explorer pages; accounts show their fingerprint (and a name when one is known). */
import { fingerprintOf, shortHex } from '../lib/format.ts';
import { Link } from '../lib/router.tsx';

export function AccountLink({ id, name }: { id: string; name?: string | null }) {
  return (
    <Link to={{ page: 'account', id }} class="account-link" title={id}>
      {name ? <span class="account-name">{name}</span> : null}
      <code class="fingerprint">{fingerprintOf(id)}</code>
    </Link>
  );
}

export function BlockLink({ height, hash }: { height?: number; hash?: string }) {
  const id = height !== undefined ? String(height) : (hash ?? '');
  return (
    <Link to={{ page: 'block', id }} title={hash}>
      {height !== undefined ? `#${height.toLocaleString()}` : <code class="hex">{shortHex(id)}</code>}
    </Link>
  );
}

export function TxLink({ id }: { id: string }) {
  return (
    <Link to={{ page: 'tx', id }} title={id}>
      <code class="hex">{shortHex(id)}</code>
    </Link>
  );
}

export function RecordLink({ id }: { id: string }) {
  return (
    <Link to={{ page: 'record', id }} title={id}>
      <code class="hex">{shortHex(id)}</code>
    </Link>
  );
}
