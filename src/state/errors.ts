/** Why a transaction cannot be applied. Stable codes: they reach RPC clients as `data.reason`. */
export const TxErrorCode = {
  WrongChain: 'WRONG_CHAIN',
  BadSignature: 'BAD_SIGNATURE',
  NonceTooLow: 'NONCE_TOO_LOW',
  NonceGap: 'NONCE_GAP',
  NotRegistered: 'NOT_REGISTERED',
  AlreadyRegistered: 'ALREADY_REGISTERED',
  NotAHospital: 'NOT_A_HOSPITAL',
  NotADoctor: 'NOT_A_DOCTOR',
  ExpiryInPast: 'EXPIRY_IN_PAST',
  AttestationNotFound: 'ATTESTATION_NOT_FOUND',
  AttestationAlreadyRevoked: 'ATTESTATION_ALREADY_REVOKED',
  NotAPatient: 'NOT_A_PATIENT',
  InvalidPolicy: 'INVALID_POLICY',
  RecordNotFound: 'RECORD_NOT_FOUND',
  NotRecordOwner: 'NOT_RECORD_OWNER',
  AccessDenied: 'ACCESS_DENIED',
  ScopeNotDelegable: 'SCOPE_NOT_DELEGABLE',
  GrantNotFound: 'GRANT_NOT_FOUND',
  GrantAlreadyRevoked: 'GRANT_ALREADY_REVOKED',
  SelfGrant: 'SELF_GRANT',
  RecordErased: 'RECORD_ERASED',
  NoSuchVersion: 'NO_SUCH_VERSION',
  EmergencyReasonRequired: 'EMERGENCY_REASON_REQUIRED',
  // Why a record's policy said no, diagnosed from the requester's facts (the policy decides; these explain).
  NoGrant: 'NO_GRANT',
  GrantRevoked: 'GRANT_REVOKED',
  GrantExpired: 'GRANT_EXPIRED',
  ScopeNotGranted: 'SCOPE_NOT_GRANTED',
  AttestationRevoked: 'ATTESTATION_REVOKED',
  NotAttested: 'NOT_ATTESTED',
  EmergencyRefused: 'EMERGENCY_REFUSED',
  // Proof of stake: votes, evidence, staking.
  NotProofOfStake: 'NOT_PROOF_OF_STAKE',
  NotAValidator: 'NOT_A_VALIDATOR',
  BadVote: 'BAD_VOTE',
  DuplicateVote: 'DUPLICATE_VOTE',
  BadEvidence: 'BAD_EVIDENCE',
  AlreadySlashed: 'ALREADY_SLASHED',
  InsufficientBalance: 'INSUFFICIENT_BALANCE',
  InsufficientStake: 'INSUFFICIENT_STAKE',
  StakeQueueFull: 'STAKE_QUEUE_FULL',
} as const;
export type TxErrorCode = (typeof TxErrorCode)[keyof typeof TxErrorCode];

export class TxError extends Error {
  readonly code: TxErrorCode;
  constructor(code: TxErrorCode, message: string) {
    super(message);
    this.name = 'TxError';
    this.code = code;
  }
}

/** What the network layer does with a peer that sent an invalid block (Lodestar's GossipAction). */
export const ErrorAction = { Ignore: 'IGNORE', Reject: 'REJECT' } as const;
export type ErrorAction = (typeof ErrorAction)[keyof typeof ErrorAction];

/** Why a block is refused. */
export const BlockErrorCode = {
  Decode: 'BLOCK_DECODE_FAILED',
  WrongChain: 'WRONG_CHAIN',
  UnknownParent: 'UNKNOWN_PARENT',
  WrongHeight: 'WRONG_HEIGHT',
  BadTxRoot: 'BAD_TX_ROOT',
  BadStateRoot: 'BAD_STATE_ROOT',
  BadSeal: 'BAD_SEAL',
  BadTime: 'BAD_TIME',
  FutureBlock: 'FUTURE_BLOCK',
  WrongProposer: 'WRONG_PROPOSER',
  BadSignature: 'BAD_SIGNATURE',
  InvalidTransaction: 'INVALID_TRANSACTION',
  AlreadyKnown: 'ALREADY_KNOWN',
  /** The block descends from a block this node found invalid. */
  InvalidAncestor: 'INVALID_ANCESTOR',
  /** The block's branch leaves the chain below the finalized block: it can never be adopted. */
  ConflictsWithFinality: 'CONFLICTS_WITH_FINALITY',
  /** The block's branch leaves the chain further back than this node reorganises. */
  ReorgTooDeep: 'REORG_TOO_DEEP',
} as const;
export type BlockErrorCode = (typeof BlockErrorCode)[keyof typeof BlockErrorCode];

export class BlockError extends Error {
  readonly code: BlockErrorCode;
  readonly action: ErrorAction;
  constructor(code: BlockErrorCode, message: string, action: ErrorAction = ErrorAction.Reject) {
    super(message);
    this.name = 'BlockError';
    this.code = code;
    this.action = action;
  }
}
