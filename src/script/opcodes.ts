/**
 * Bytecode instruction set. A rule's condition is postfix code over a value
 * stack; `and`/`or` carry a forward skip so evaluation short-circuits without
 * any backward jump, which is why every program terminates.
 */
export const Op = {
  False: 0x01,
  True: 0x02,
  /** varint n: pushes n. */
  Int: 0x03,
  /** varint n (n >= 1): pushes -n. */
  NegInt: 0x04,
  /** varint length, then that many UTF-8 bytes. */
  Str: 0x05,
  /** 32 raw bytes of an Ed25519 public key. */
  Id: 0x06,
  Requester: 0x10,
  Owner: 0x11,
  Action: 0x12,
  Height: 0x13,
  Time: 0x14,
  Purpose: 0x15,
  Emergency: 0x16,
  Role: 0x20,
  Attested: 0x21,
  AttestedBy: 0x22,
  Granted: 0x23,
  Expired: 0x24,
  Revoked: 0x25,
  Not: 0x30,
  /** varint skip: if the top is false, jump skip bytes forward keeping it; else pop it. */
  And: 0x31,
  /** varint skip: if the top is true, jump skip bytes forward keeping it; else pop it. */
  Or: 0x32,
  Eq: 0x40,
  Ne: 0x41,
  Lt: 0x42,
  Le: 0x43,
  Gt: 0x44,
  Ge: 0x45,
  /** byte count, then that many literal instructions (False/True/Int/NegInt/Str/Id). */
  In: 0x46,
  Add: 0x50,
  Sub: 0x51,
} as const;
export type Op = (typeof Op)[keyof typeof Op];

/** Static value types. */
export const ValueType = { Bool: 1, Int: 2, Str: 3, Id: 4 } as const;
export type ValueType = (typeof ValueType)[keyof typeof ValueType];

export const VALUE_TYPE_NAMES: Readonly<Record<ValueType, string>> = { 1: 'bool', 2: 'int', 3: 'string', 4: 'id' };

/** Rule header byte: bits 0-2 are the actions, bit 7 marks a deny rule; bits 3-6 must be zero. */
export const RULE_DENY_BIT = 0x80;
export const RULE_ACTION_MASK = 0x07;
export const ACTION_BITS = { read: 1, write: 2, delegate: 4 } as const;

/** Step cost of each instruction; 0 means the byte is not an opcode. */
export const LOOKUP_COST = 10;
export const OPCODE_COSTS: Uint8Array = buildCosts();
/** Extra cost per list element of `In`, on top of OPCODE_COSTS[Op.In]. */
export const IN_ELEMENT_COST = 1;
/** Cost charged for each rule whose condition is evaluated. */
export const RULE_COST = 1;

function buildCosts(): Uint8Array {
  const costs = new Uint8Array(256);
  for (const code of Object.values(Op)) costs[code] = 1;
  for (const code of [Op.Role, Op.Attested, Op.AttestedBy, Op.Granted, Op.Expired, Op.Revoked]) costs[code] = LOOKUP_COST;
  return costs;
}

/** Source names of context values, with their opcode and type. */
export const VARIABLES = {
  requester: { op: Op.Requester, type: ValueType.Id },
  owner: { op: Op.Owner, type: ValueType.Id },
  action: { op: Op.Action, type: ValueType.Str },
  height: { op: Op.Height, type: ValueType.Int },
  time: { op: Op.Time, type: ValueType.Int },
  purpose: { op: Op.Purpose, type: ValueType.Str },
  emergency: { op: Op.Emergency, type: ValueType.Bool },
} as const;
export type VariableName = keyof typeof VARIABLES;

/** Source names of built-in functions (context lookups), with their opcode and signature. */
export const FUNCTIONS = {
  role: { op: Op.Role, params: [ValueType.Id], result: ValueType.Str },
  attested: { op: Op.Attested, params: [ValueType.Id], result: ValueType.Bool },
  attested_by: { op: Op.AttestedBy, params: [ValueType.Id, ValueType.Id], result: ValueType.Bool },
  granted: { op: Op.Granted, params: [ValueType.Id, ValueType.Str], result: ValueType.Bool },
  expired: { op: Op.Expired, params: [ValueType.Id], result: ValueType.Bool },
  revoked: { op: Op.Revoked, params: [ValueType.Id], result: ValueType.Bool },
} as const satisfies Record<string, { op: Op; params: readonly ValueType[]; result: ValueType }>;
export type FunctionName = keyof typeof FUNCTIONS;

export const COMPARE_OPS = { '==': Op.Eq, '!=': Op.Ne, '<': Op.Lt, '<=': Op.Le, '>': Op.Gt, '>=': Op.Ge } as const;
export type CompareOperator = keyof typeof COMPARE_OPS;
export const ARITH_OPS = { '+': Op.Add, '-': Op.Sub } as const;
export type ArithOperator = keyof typeof ARITH_OPS;
