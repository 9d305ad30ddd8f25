/**
 * The explorer's one search box: a block height, a block hash, a transaction id, an account key, a record id
 * or an account fingerprint. `classifyQuery` is pure; `resolveSearch` asks the node.
 */
import type { MedchainRpc } from '../../client/rpcClient.ts';
import { rpcCall, type BlockJson, type IdentityJson, type RecordJson, type TransactionJson, type TransactionLookup } from '../../client/rpcClient.ts';
import type { Route } from './routes.ts';
import { fromHex, toHex } from '../../codec/bytes.ts';
import { keyPairFromSeed } from '../../crypto/ed25519.ts';

export type QueryKind =
  | { readonly kind: 'height'; readonly height: number }
  | { readonly kind: 'hash'; readonly hex: string }
  | { readonly kind: 'fingerprint'; readonly prefix: string }
  | { readonly kind: 'invalid'; readonly why: string };

const MAX_HEIGHT = 0xffff_ffff;

/** What the text in the search box can be. */
export function classifyQuery(text: string): QueryKind {
  const q = text.trim().toLowerCase();
  if (q === '') return { kind: 'invalid', why: 'Type a block height, a hash, an account key or a fingerprint.' };
  if (/^#?\d+$/.test(q)) {
    const height = Number(q.replace('#', ''));
    return Number.isSafeInteger(height) && height <= MAX_HEIGHT ? { kind: 'height', height } : { kind: 'invalid', why: 'That height is larger than any block can have.' };
  }
  const hex = q.startsWith('0x') ? q.slice(2) : q;
  if (/^[0-9a-f]{64}$/.test(hex)) return { kind: 'hash', hex };
  if (/^[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}$/.test(q) || /^[0-9a-f]{16}$/.test(hex)) return { kind: 'fingerprint', prefix: hex.replaceAll('-', '') };
  if (/^[0-9a-f]+$/.test(hex)) {
    return { kind: 'invalid', why: `That is ${hex.length} hex digits. A hash or account key has 64, a fingerprint 16 (as xxxx-xxxx-xxxx-xxxx).` };
  }
  return { kind: 'invalid', why: 'The explorer finds blocks (by height or hash), transactions, records and accounts (by key or fingerprint). It does not search names or text.' };
}

export interface AccountMatch {
  readonly id: string;
  /** Where the explorer saw it, e.g. "hospital: Demo General Hospital" or "signed a transaction in block 12". */
  readonly seen: string;
}

export type SearchOutcome =
  | { readonly found: Route }
  | { readonly accounts: readonly AccountMatch[] }
  | { readonly nothing: string };

/** How many recent blocks a fingerprint search reads when the account is not otherwise known. */
export const FINGERPRINT_SCAN_BLOCKS = 200;

/** Finds what `text` names. Known accounts (hospitals, this browser's identities) are matched first for fingerprints. */
export async function resolveSearch(rpc: MedchainRpc, text: string, knownAccounts: readonly AccountMatch[] = [], signal?: AbortSignal): Promise<SearchOutcome> {
  const query = classifyQuery(text);
  switch (query.kind) {
    case 'invalid':
      return { nothing: query.why };
    case 'height': {
      const block = await rpc.getBlock(query.height, { signal });
      return block === null ? { nothing: `There is no block at height ${query.height} yet.` } : { found: { page: 'block', id: String(query.height) } };
    }
    case 'hash': {
      // A seed looks like any other 64 hex digits. If this one is the secret of an identity in this browser,
      // stop before anything leaves the page.
      const derived = toHex(keyPairFromSeed(fromHex(query.hex)!).publicKey);
      const own = knownAccounts.find((a) => a.id === derived);
      if (own !== undefined) {
        return { nothing: 'That is the secret seed of one of your identities, not something to search for. Nothing was sent. Never paste it anywhere; if someone else has seen it, make a new identity.' };
      }
      const [block, tx, identity, record] = await rpc.batch(
        [
          rpcCall<BlockJson | null>('chain_getBlock', { block: query.hex }),
          rpcCall<TransactionLookup>('tx_get', { txId: query.hex }),
          rpcCall<IdentityJson | null>('identity_get', { accountId: query.hex }),
          rpcCall<RecordJson | null>('record_get', { recordId: query.hex }),
        ],
        { signal },
      );
      if (block.ok && block.result !== null) return { found: { page: 'block', id: query.hex } };
      if (tx.ok && tx.result.status !== 'unknown') return { found: { page: 'tx', id: query.hex } };
      if (record.ok && record.result !== null) return { found: { page: 'record', id: query.hex } };
      // Any 32 bytes may be an account that has not registered; its page says so.
      if (identity.ok) return { found: { page: 'account', id: query.hex } };
      return { nothing: 'No block, transaction, record or account has that hash.' };
    }
    case 'fingerprint': {
      const matches = new Map<string, AccountMatch>();
      for (const known of knownAccounts) if (known.id.startsWith(query.prefix)) matches.set(known.id, known);
      const hospitals = await rpc.call<{ id: string; name: string }[]>('identity_hospitals', {}, { signal });
      for (const h of hospitals) if (h.id.startsWith(query.prefix)) matches.set(h.id, { id: h.id, seen: `hospital: ${h.name}` });
      if (matches.size === 0) for (const match of await scanRecentBlocks(rpc, query.prefix, signal)) matches.set(match.id, match);
      if (matches.size === 0) {
        return {
          nothing: `No account with fingerprint ${text.trim()} is known here or appears in the last ${FINGERPRINT_SCAN_BLOCKS} blocks. Paste the full account key (64 hex digits) instead.`,
        };
      }
      const list = [...matches.values()];
      return list.length === 1 ? { found: { page: 'account', id: list[0]!.id } } : { accounts: list };
    }
  }
}

// A fingerprint is a key prefix; the node has no prefix index, so look through recent transactions.
async function scanRecentBlocks(rpc: MedchainRpc, prefix: string, signal?: AbortSignal): Promise<AccountMatch[]> {
  const head = await rpc.getHead({ signal });
  const found = new Map<string, AccountMatch>();
  const lowest = Math.max(0, head.height - FINGERPRINT_SCAN_BLOCKS + 1);
  for (let top = head.height; top >= lowest && found.size === 0; top -= 50) {
    const heights = Array.from({ length: Math.min(50, top - lowest + 1) }, (_, i) => top - i);
    const blocks = await rpc.batch(heights.map((h) => rpcCall<BlockJson<TransactionJson> | null>('chain_getBlock', { block: h, fullTransactions: true })), { signal });
    for (const outcome of blocks) {
      if (!outcome.ok || outcome.result === null) continue;
      const block = outcome.result;
      if (block.header.proposer.startsWith(prefix)) found.set(block.header.proposer, { id: block.header.proposer, seen: `proposed block ${block.header.height}` });
      for (const tx of block.transactions) {
        for (const account of accountsOf(tx)) if (account.startsWith(prefix)) found.set(account, { id: account, seen: `in transaction ${tx.id.slice(0, 8)}… (block ${block.header.height})` });
      }
    }
  }
  return [...found.values()];
}

/** Every account a transaction names: its signer and the accounts in its payload. */
export function accountsOf(tx: TransactionJson): string[] {
  const out = [tx.sender];
  for (const field of ACCOUNT_FIELDS) {
    const value = tx.payload[field];
    if (typeof value === 'string' && /^[0-9a-f]{64}$/.test(value)) out.push(value);
  }
  return out;
}

/** Payload fields that hold an account id, by their names in src/types/transaction.ts. */
export const ACCOUNT_FIELDS = ['doctor', 'grantee'] as const;
