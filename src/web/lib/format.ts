/** Display helpers: short hashes, fingerprints, times, sizes and transaction names people can read. */

/** `abcd1234…9f0e` for a long hex string; unchanged when short. */
export function shortHex(hex: string, head = 8, tail = 4): string {
  return hex.length <= head + tail + 1 ? hex : `${hex.slice(0, head)}…${hex.slice(-tail)}`;
}

/** The fingerprint of an account id in hex, as src/crypto/ed25519.ts fingerprint() makes it. */
export function fingerprintOf(accountHex: string): string {
  const h = accountHex.slice(0, 16);
  return `${h.slice(0, 4)}-${h.slice(4, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}`;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

export function formatDateTime(ms: number): string {
  return dateTime.format(ms);
}

export function formatDate(ms: number): string {
  return dateOnly.format(ms);
}

/** "just now", "12 s ago", "5 min ago", "3 h ago", "2 days ago"; "in 5 min" for the future. */
export function relativeTime(ms: number, now: number): string {
  const delta = Math.round((now - ms) / 1000);
  const future = delta < 0;
  const s = Math.abs(delta);
  let text: string;
  if (s < 3) return 'just now';
  if (s < 60) text = `${s} s`;
  else if (s < 3600) text = `${Math.floor(s / 60)} min`;
  else if (s < 86_400) text = `${Math.floor(s / 3600)} h`;
  else {
    const days = Math.floor(s / 86_400);
    text = `${days} day${days === 1 ? '' : 's'}`;
  }
  return future ? `in ${text}` : `${text} ago`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count.toLocaleString()} ${count === 1 ? one : many}`;
}

/** Transaction types (TX_TYPE_NAMES) as people say them. */
export const TX_LABELS: Readonly<Record<string, string>> = {
  'identity.register': 'Registration',
  'identity.attest': 'Doctor attested',
  'identity.revokeAttestation': 'Attestation revoked',
  'record.create': 'Record created',
  'record.addVersion': 'New record version',
  'record.setPolicy': 'Access policy changed',
  'record.erase': 'Record erased',
  'access.grant': 'Access granted',
  'access.revoke': 'Access revoked',
  'access.read': 'Record read',
  'consensus.vote': 'Finality vote',
  'consensus.evidence': 'Misbehaviour evidence',
  'consensus.stake': 'Stake bonded',
  'consensus.unstake': 'Stake withdrawn',
};

export function txLabel(type: string): string {
  return TX_LABELS[type] ?? type;
}

/** HL7 purpose-of-use codes the app offers or shows. */
export const PURPOSES: Readonly<Record<string, string>> = {
  TREAT: 'treatment',
  ETREAT: 'emergency treatment',
  PATADMIN: 'patient administration',
  PATRQT: "the patient's own request",
  HPAYMT: 'payment',
  HRESCH: 'research',
  PUBHLTH: 'public health',
  HOPERAT: 'healthcare operations',
};

/** The far-future time the chain uses for "no expiry" (9999-12-31). */
export const NO_EXPIRY_MS = Date.UTC(9999, 11, 31);
