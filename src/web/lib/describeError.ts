/**
 * Every error the app can show, in plain English: what happened and what to do. Node refusals are matched on
 * their stable `data.reason` (docs/ARCHITECTURE.md, RPC); test/unit/web/describeError.test.ts checks that
 * every reason the node can send has an entry here.
 */
import { RpcClientError, RpcTransportError, TransactionWaitError } from '../../client/rpcClient.ts';
import { EnvelopeError } from '../../envelope/errors.ts';
import { KeystoreError } from '../keystore.ts';

export interface ErrorDescription {
  /** One short sentence: what happened. */
  readonly title: string;
  /** What to do, or more about why. */
  readonly detail: string;
  /** The stable code, for support and for people who read logs. */
  readonly code?: string;
  /** Whether trying the same thing again can help. */
  readonly retry: boolean;
}

type Entry = readonly [title: string, detail: string, retry?: boolean];

/** Node refusals by `data.reason`. */
export const NODE_REASONS: Readonly<Record<string, Entry>> = {
  // Transactions and their checks (src/state/errors.ts)
  WRONG_CHAIN: ['This was made for another chain.', 'The app and the node disagree about which chain this is. Reload the page.'],
  BAD_SIGNATURE: ['The node could not verify the signature.', 'Lock and unlock your identity, then try again. If it keeps happening, the identity file may be damaged.'],
  NONCE_TOO_LOW: ['This action was already submitted.', 'Another transaction from this identity got in first. Wait a moment and try again.', true],
  NONCE_GAP: ['An earlier action from this identity is still pending.', 'Wait for it to be confirmed, then try again.', true],
  NOT_REGISTERED: ['This identity is not registered on the chain yet.', 'Register it first (on the Keys page), then try again.'],
  ALREADY_REGISTERED: ['This identity is already registered.', 'Nothing more to do.'],
  NOT_A_HOSPITAL: ['Only a hospital can do this.', 'Unlock a hospital identity and try again.'],
  NOT_A_DOCTOR: ['That account is not a registered doctor.', 'Check the key or fingerprint; the doctor must register before a hospital can attest them.'],
  EXPIRY_IN_PAST: ['The expiry date has already passed.', 'Choose a date in the future.'],
  ATTESTATION_NOT_FOUND: ['This hospital has not attested that doctor.', 'There is nothing to revoke.'],
  ATTESTATION_ALREADY_REVOKED: ['That attestation was already revoked.', 'Nothing more to do.'],
  NOT_A_PATIENT: ['Only a patient can do this.', 'Unlock a patient identity and try again.'],
  INVALID_POLICY: ['The access policy is not valid.', 'Pick one of the policy templates, or fix the policy and try again.'],
  RECORD_NOT_FOUND: ['That record does not exist.', 'Check the record id.'],
  NO_SUCH_RECORD: ['That record does not exist.', 'Check the record id.'],
  NOT_RECORD_OWNER: ['Only the patient who owns this record can do this.', 'Unlock the owner\'s identity.'],
  ACCESS_DENIED: ["The record's policy does not allow this.", 'Ask the patient to share the record with you.'],
  SCOPE_NOT_DELEGABLE: ['You cannot pass on more access than you hold.', 'Share at most what was shared with you, and never the right to share.'],
  GRANT_NOT_FOUND: ['That person does not hold access to this record.', 'There is nothing to revoke.'],
  GRANT_ALREADY_REVOKED: ['That access was already revoked.', 'Nothing more to do.'],
  SELF_GRANT: ['You cannot share a record with yourself.', 'Pick another account.'],
  RECORD_ERASED: ['This record was erased.', 'Its data was deleted on every node; only a tombstone remains on the chain.'],
  NO_SUCH_VERSION: ['That version of the record does not exist.', 'Reload the record and pick a listed version.'],
  EMERGENCY_REASON_REQUIRED: ['Emergency access needs a reason.', 'Describe the emergency; the patient will see it.'],
  NO_GRANT: ['You have no access to this record.', 'The patient has not shared it with you. Ask them to.'],
  GRANT_REVOKED: ['The patient revoked your access to this record.', 'Ask the patient if you need it again.'],
  GRANT_EXPIRED: ['Your access to this record has expired.', 'Ask the patient to share it again.'],
  SCOPE_NOT_GRANTED: ['Your access does not cover this.', 'The patient shared the record for other purposes only (for example read, not write).'],
  ATTESTATION_REVOKED: ['Your hospital revoked your attestation.', 'Doctors act only while a hospital attests them. Contact your hospital.'],
  NOT_ATTESTED: ['You are not attested by a hospital.', 'Doctors act only while a hospital attests them. Ask your hospital to attest your account.'],
  EMERGENCY_REFUSED: ["This record's policy does not allow emergency access.", 'Only records with an emergency policy can be opened without the patient\'s consent.'],
  NOT_PROOF_OF_STAKE: ['This chain does not use staking.', 'Validator actions need a proof-of-stake chain.'],
  NOT_A_VALIDATOR: ['That account is not a validator.', 'Check the key.'],
  BAD_VOTE: ['The finality vote is not valid.', 'This is the node\'s internal business; no action needed from you.'],
  DUPLICATE_VOTE: ['That finality vote was already counted.', 'No action needed.'],
  BAD_EVIDENCE: ['The evidence does not prove misbehaviour.', 'Check the two signed messages.'],
  ALREADY_SLASHED: ['That validator was already slashed.', 'No action needed.'],
  INSUFFICIENT_BALANCE: ['Not enough unbonded balance.', 'Stake at most the balance shown.'],
  INSUFFICIENT_STAKE: ['Not enough stake.', 'Unstake at most the stake shown; the validator set may not be left without stake.'],
  STAKE_QUEUE_FULL: ['Too many stake changes are due at the same block.', 'Try again in a few blocks.', true],
  // The mempool (src/chain/mempool.ts)
  ALREADY_KNOWN: ['This action was already submitted.', 'Wait for it to be confirmed.', true],
  NONCE_PENDING: ['An action from this identity is already waiting with the same number.', 'Wait for it to be confirmed, then try again.', true],
  SENDER_LIMIT: ['Too many actions from this identity are waiting.', 'Wait for some to be confirmed, then try again.', true],
  POOL_FULL: ['The node is busy.', 'Try again in a minute.', true],
  NONCE_TOO_FAR_AHEAD: ['Too many actions from this identity are waiting.', 'Wait for some to be confirmed, then try again.', true],
  VOTE_NOT_FOR_MEMPOOL: ['Finality votes are not accepted here.', 'No action needed.'],
  VOTE_IGNORED: ['The node ignored a finality vote.', 'No action needed.'],
  // Record data on the node (src/emr/recordService.ts)
  COMMITMENT_MISMATCH: ['The uploaded data does not match the chain.', 'The upload was damaged on the way. Try again.', true],
  SIZE_MISMATCH: ['The uploaded data does not match the chain.', 'The upload was damaged on the way. Try again.', true],
  TOO_LARGE: ['The file is too large.', 'A record may be at most about 3 MB.'],
  BAD_REQUEST: ['The node could not read the request.', 'Reload the page and try again.'],
  NOT_OWNER_OR_AUTHOR: ['Only the owner or the author of a version can upload its keys.', 'Unlock the right identity.'],
  UNKNOWN_READER: ['That account is not registered.', 'The person you share with must register first.'],
  MALFORMED_ENVELOPE: ['A key envelope was malformed.', 'Reload the page and try again.'],
  NOT_A_READ_REQUEST: ['The node expected a read request.', 'Reload the page and try again.'],
  READ_DENIED: ['You may not read this record.', 'Ask the patient to share it with you.'],
  READ_NOT_RECORDED: ['Your read was not recorded on the chain, so nothing was sent.', 'Every read must leave a receipt first. Try again.', true],
  CIPHERTEXT_UNAVAILABLE: ["This node does not hold the record's data yet.", 'It may still be copying it from another hospital. Try again in a minute.', true],
  ENVELOPE_UNAVAILABLE: ['No decryption key was shared with you for this version.', 'Ask the patient to share the record again; newer versions get new keys.'],
  // Decoding (src/codec/errors.ts)
  TRUNCATED: ['The node received incomplete data.', 'Reload the page and try again.', true],
  TRAILING_BYTES: ['The node received malformed data.', 'Reload the page and try again.'],
  NON_CANONICAL: ['The node received malformed data.', 'Reload the page and try again.'],
  MALFORMED: ['The node received malformed data.', 'Reload the page and try again.'],
  OVERSIZE: ['Something in the request is too large.', 'Shorten the text or pick a smaller file.'],
  WRONG_TYPE: ['The node received malformed data.', 'Reload the page and try again.'],
  WRONG_ARITY: ['The node received malformed data.', 'Reload the page and try again.'],
  OUT_OF_RANGE: ['A value is outside what the chain allows.', 'Check numbers and dates (for example an expiry too far in the future).'],
  UNKNOWN_TYPE: ['The node does not know this kind of action.', 'The node may run an older version of medchain.'],
  // The RPC layer (src/rpc/errors.ts and method errors)
  PARSE_ERROR: ['The node could not read the request.', 'Reload the page and try again.'],
  INVALID_REQUEST: ['The node could not read the request.', 'Reload the page and try again.'],
  BATCH_TOO_LARGE: ['The request was too large.', 'Try again with less at once.'],
  NESTING_TOO_DEEP: ['The node could not read the request.', 'Reload the page and try again.'],
  BODY_TOO_LARGE: ['The upload is too large for this node.', 'A record may be at most about 3 MB.'],
  UNSUPPORTED_MEDIA_TYPE: ['The node could not read the request.', 'Reload the page and try again.'],
  HTTP_METHOD_NOT_ALLOWED: ['The node could not read the request.', 'Reload the page and try again.'],
  METHOD_NOT_FOUND: ['This node does not offer that function.', 'It may run an older version of medchain.'],
  INVALID_PARAMS: ['The node refused a value in the request.', 'Check what you entered.'],
  INTERNAL_ERROR: ['The node ran into a problem.', 'Try again. If it keeps happening, tell the node operator.', true],
  UNAUTHORIZED: ['This needs the node administrator.', 'Only the node operator can do this.'],
  HOST_NOT_ALLOWED: ['The node refused this address.', 'Open the app through the address the node operator gave you.'],
  SHUTTING_DOWN: ['The node is shutting down.', 'Try again in a minute, or use another node.', true],
  P2P_DISABLED: ['This node runs without a network connection to other nodes.', 'Peers are not available here.'],
  PEER_DIAL_FAILED: ['Could not connect to that peer.', 'Check the address.', true],
  SUBSCRIPTIONS_NEED_WEBSOCKET: ['Live updates are unavailable.', 'The app checks for changes every few seconds instead.'],
  TOO_MANY_SUBSCRIPTIONS: ['Too many live updates are open.', 'Close some tabs of this app.'],
};

const ENVELOPE_CODES: Readonly<Record<string, Entry>> = {
  MALFORMED: ['The encrypted data is damaged.', 'It cannot be decrypted. Ask the patient to upload the record again.'],
  UNSUPPORTED_VERSION: ['This record was encrypted by a newer medchain.', 'Update the app (reload the page) and try again.'],
  AUTH_FAILED: ['The record could not be decrypted.', 'The data or its key was altered, or the key was not made for you. Nothing was shown.'],
  INVALID_KEY: ['That account key cannot receive encrypted records.', 'Check that the key was copied whole.'],
  INVALID_ARGUMENT: ['The app made an invalid request.', 'Reload the page and try again.'],
};

const KEYSTORE_TITLES: Readonly<Record<string, string>> = {
  WRONG_PASSPHRASE: 'Wrong passphrase.',
  TAMPERED: 'This identity file was altered or damaged.',
  INVALID_FILE: 'That is not a usable identity file.',
  UNSUPPORTED_VERSION: 'This identity file comes from a newer medchain.',
  WEAK_PASSPHRASE: 'Choose a stronger passphrase.',
  INVALID_SEED: 'That is not a valid private key.',
  INVALID_LABEL: 'Choose another name.',
};

/** Turns anything thrown into something a patient can read; never includes a stack trace. */
export function describeError(error: unknown): ErrorDescription {
  if (error instanceof RpcClientError) {
    const entry = NODE_REASONS[error.reason];
    if (entry !== undefined) return { title: entry[0], detail: entry[1], code: error.reason, retry: entry[2] ?? false };
    return { title: 'The node refused the request.', detail: limit(error.message), code: error.reason === 'UNKNOWN' ? String(error.code) : error.reason, retry: false };
  }
  if (error instanceof RpcTransportError) {
    switch (error.reason) {
      case 'NETWORK':
        return { title: 'Cannot reach the node.', detail: 'Check your connection and that the node is running, then try again.', code: 'NETWORK', retry: true };
      case 'TIMEOUT':
        return { title: 'The node did not answer in time.', detail: 'It may be busy or unreachable. Try again.', code: 'TIMEOUT', retry: true };
      case 'HTTP_STATUS':
        return { title: `The node answered with HTTP ${error.httpStatus ?? 'error'}.`, detail: 'Something between you and the node refused the request. Try again later.', code: 'HTTP_STATUS', retry: true };
      case 'INVALID_RESPONSE':
        return { title: 'The node sent an answer the app does not understand.', detail: 'The node may run another version of medchain. Reload the page.', code: 'INVALID_RESPONSE', retry: true };
    }
  }
  if (error instanceof TransactionWaitError) {
    return error.reason === 'TIMEOUT'
      ? { title: 'Not confirmed yet.', detail: 'The chain has not included this action yet. It may still go through; check again in a minute before repeating it.', code: 'NOT_CONFIRMED', retry: true }
      : { title: 'The node dropped this action.', detail: 'It was not included in a block. Check the current state, then try again.', code: 'DROPPED', retry: true };
  }
  if (error instanceof KeystoreError) {
    return { title: KEYSTORE_TITLES[error.code] ?? 'The identity could not be used.', detail: error.message, code: error.code, retry: error.code === 'WRONG_PASSPHRASE' };
  }
  if (error instanceof EnvelopeError) {
    const entry = ENVELOPE_CODES[error.code]!;
    return { title: entry[0], detail: entry[1], code: `ENVELOPE_${error.code}`, retry: false };
  }
  if (error instanceof DOMException && error.name === 'AbortError') {
    return { title: 'Cancelled.', detail: 'The request was stopped before it finished.', code: 'ABORTED', retry: true };
  }
  if (error instanceof DOMException && error.name === 'QuotaExceededError') {
    return { title: 'This browser has no room left to save data.', detail: 'Free some space in the browser (site data), then try again.', code: 'STORAGE_FULL', retry: true };
  }
  const message = error instanceof Error ? error.message : typeof error === 'string' ? error : 'No details.';
  return { title: 'Something went wrong.', detail: limit(message), retry: true };
}

function limit(text: string): string {
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
