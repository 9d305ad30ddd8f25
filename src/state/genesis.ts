import { nextStateRoot, EMPTY_STATE_ROOT } from './commitment.ts';
import { StateOverlay, type StateReader } from './overlay.ts';
import { putAccount } from './accessors.ts';
import { stateKey } from './stateKeys.ts';
import { encodeHospitalList, encodeHospitalName, encodeValidatorSet } from './stateValues.ts';
import { assembleBlock } from '../codec/block.ts';
import { bytesEqual, compareBytes, fromHex, toHex, utf8 } from '../codec/bytes.ts';
import { MAX_NAME_BYTES } from '../codec/payloads.ts';
import { encodeCanonical, type WireValue } from '../codec/canonical.ts';
import { merkleRoot } from '../crypto/merkle.ts';
import type { Block } from '../types/block.ts';
import type { PosRules } from './pos.ts';
import type { ConsensusParams, GenesisAccount, GenesisHospital, GenesisSpec, PolicyRuleActivation } from '../types/genesis.ts';
import { POLICY_FLAG_VERSIONS, policyFlagsAtVersion, type PolicyFlags } from '../script/flags.ts';
import { CHAIN_ID_PATTERN, ZERO_HASH } from '../types/primitives.ts';
import type { StateEntry } from '../types/state.ts';

/** A genesis file that cannot be used, with the JSON path of the problem. */
export class GenesisError extends Error {
  constructor(path: string, problem: string) {
    super(`genesis ${path}: ${problem}`);
    this.name = 'GenesisError';
  }
}

const MAX_HOSPITALS = 1000;
const MAX_ACCOUNTS = 10_000;

/** Validates a parsed genesis JSON document; throws GenesisError naming the first bad field. */
export function parseGenesis(json: unknown): GenesisSpec {
  const root = object(json, '$');
  const chainId = string(root.chainId, '$.chainId');
  if (!CHAIN_ID_PATTERN.test(chainId)) throw new GenesisError('$.chainId', 'must match ' + CHAIN_ID_PATTERN.source);
  const time = integer(root.time, '$.time', 0, Number.MAX_SAFE_INTEGER);
  const consensus = parseConsensus(object(root.consensus, '$.consensus'));
  const hospitals = array(root.hospitals, '$.hospitals', MAX_HOSPITALS).map((h, i) => parseHospital(h, `$.hospitals[${i}]`));
  if (hospitals.length === 0) throw new GenesisError('$.hospitals', 'at least one hospital is needed');
  const accounts = array(root.accounts ?? [], '$.accounts', MAX_ACCOUNTS).map((a, i) => parseAccount(a, `$.accounts[${i}]`));
  const seen = new Set<string>();
  for (const { id } of [...hospitals, ...accounts]) {
    const key = toHex(id);
    if (seen.has(key)) throw new GenesisError('$', `account ${key} appears twice`);
    seen.add(key);
  }
  // Stake and balances only move between each other or burn, so bounding their sum here bounds every
  // later stake, balance and vote tally below the u64 wire limit.
  if (hospitals.reduce((sum, h) => sum + h.stake + h.balance, 0n) > 0x7fffffffffffffffn) {
    throw new GenesisError('$.hospitals', 'the stakes and balances together are above 2^63 - 1');
  }
  if (consensus.engine === 'pos' && !hospitals.some((h) => h.stake > 0n)) {
    throw new GenesisError('$.hospitals', 'proof-of-stake needs at least one hospital with stake > 0');
  }
  const policyRules = parsePolicyRules(root.policyRules);
  return { chainId, time, consensus, hospitals, accounts, policyRules };
}

function parsePolicyRules(value: unknown): PolicyRuleActivation[] {
  if (value === undefined) return [{ fromHeight: 0, version: POLICY_FLAG_VERSIONS.length - 1 }];
  const rules = array(value, '$.policyRules', 100).map((r, i) => {
    const rule = object(r, `$.policyRules[${i}]`);
    return {
      fromHeight: integer(rule.fromHeight, `$.policyRules[${i}].fromHeight`, 0, 0xffffffff),
      version: integer(rule.version, `$.policyRules[${i}].version`, 0, POLICY_FLAG_VERSIONS.length - 1),
    };
  });
  if (rules[0]?.fromHeight !== 0) throw new GenesisError('$.policyRules', 'the first entry must have fromHeight 0');
  for (let i = 1; i < rules.length; i++) {
    if (rules[i]!.fromHeight <= rules[i - 1]!.fromHeight) throw new GenesisError(`$.policyRules[${i}].fromHeight`, 'heights must increase');
    // Flags only tighten: a later version never accepts a program an earlier one refused.
    if (rules[i]!.version < rules[i - 1]!.version) throw new GenesisError(`$.policyRules[${i}].version`, 'versions may not go down');
  }
  return rules;
}

/** The policy flags in force at `height`. */
export function policyFlagsAt(spec: GenesisSpec, height: number): PolicyFlags {
  let version = 0;
  for (const rule of spec.policyRules) if (rule.fromHeight <= height) version = rule.version;
  return policyFlagsAtVersion(version)!;
}

/** Blocks between a stake change's inclusion and the validator set it changes. */
export const DEFAULT_STAKE_DELAY_BLOCKS = 16;

/** The PoS rules of the transition, or undefined on a PoW chain. */
export function posRulesOf(spec: GenesisSpec): PosRules | undefined {
  return spec.consensus.engine === 'pos' ? { stakeDelayBlocks: spec.consensus.stakeDelayBlocks } : undefined;
}

function parseConsensus(c: Record<string, unknown>): ConsensusParams {
  const engine = c.engine;
  if (engine === 'pow') {
    const targetBlockMs = integer(c.targetBlockMs, '$.consensus.targetBlockMs', 10, 3_600_000);
    const minDifficulty = integer(c.minDifficulty ?? 1, '$.consensus.minDifficulty', 1, 2 ** 40);
    const initialDifficulty = integer(c.initialDifficulty, '$.consensus.initialDifficulty', minDifficulty, 2 ** 48);
    // Below 6 blocks, one slow block (solve time clamped at 6 targets) would drop difficulty to the floor.
    const retargetWindow = integer(c.retargetWindow ?? 20, '$.consensus.retargetWindow', 8, 10_000);
    return { engine, targetBlockMs, initialDifficulty, minDifficulty, retargetWindow };
  }
  if (engine === 'pos') {
    return {
      engine,
      slotMs: integer(c.slotMs, '$.consensus.slotMs', 100, 3_600_000),
      stakeDelayBlocks: integer(c.stakeDelayBlocks ?? DEFAULT_STAKE_DELAY_BLOCKS, '$.consensus.stakeDelayBlocks', 1, 1_000_000),
    };
  }
  throw new GenesisError('$.consensus.engine', `must be "pow" or "pos", got ${JSON.stringify(engine)}`);
}

function parseHospital(value: unknown, path: string): GenesisHospital {
  const h = object(value, path);
  const name = string(h.name, `${path}.name`);
  const nameBytes = utf8(name).length;
  if (nameBytes === 0 || nameBytes > MAX_NAME_BYTES || !name.isWellFormed()) {
    throw new GenesisError(`${path}.name`, `must be 1 to ${MAX_NAME_BYTES} bytes of UTF-8`);
  }
  const stake = amount(h.stake ?? 0, `${path}.stake`);
  const balance = amount(h.balance ?? 0, `${path}.balance`);
  return { id: accountId(h.id, `${path}.id`), name, stake, balance };
}

/** A u63 amount, as a JSON number (up to 2^53) or a decimal string. */
function amount(value: unknown, path: string): bigint {
  const n = typeof value === 'string' && /^[0-9]{1,19}$/.test(value) ? BigInt(value) : BigInt(integer(value, path, 0, Number.MAX_SAFE_INTEGER));
  if (n > 0x7fffffffffffffffn) throw new GenesisError(path, 'is above 2^63 - 1');
  return n;
}

function parseAccount(value: unknown, path: string): GenesisAccount {
  const a = object(value, path);
  if (a.role !== 'patient' && a.role !== 'doctor') throw new GenesisError(`${path}.role`, 'must be "patient" or "doctor"');
  return { id: accountId(a.id, `${path}.id`), role: a.role };
}

function object(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new GenesisError(path, 'must be an object');
  return value as Record<string, unknown>;
}

function array(value: unknown, path: string, max: number): unknown[] {
  if (!Array.isArray(value)) throw new GenesisError(path, 'must be an array');
  if (value.length > max) throw new GenesisError(path, `has more than ${max} entries`);
  return value;
}

function string(value: unknown, path: string): string {
  if (typeof value !== 'string') throw new GenesisError(path, 'must be a string');
  return value;
}

function integer(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new GenesisError(path, `must be an integer from ${min} to ${max}`);
  }
  return value;
}

function accountId(value: unknown, path: string): Uint8Array {
  const bytes = typeof value === 'string' && /^[0-9a-f]{64}$/.test(value) ? fromHex(value) : undefined;
  if (bytes === undefined) throw new GenesisError(path, 'must be a 64-character lowercase hex public key');
  return bytes;
}

/** The canonical encoding of the spec, stored in state so the genesis hash commits to every parameter. */
export function encodeGenesisSpec(spec: GenesisSpec): Uint8Array {
  const c = spec.consensus;
  const consensus: WireValue =
    c.engine === 'pow'
      ? ['pow', c.targetBlockMs, BigInt(c.initialDifficulty), BigInt(c.minDifficulty), c.retargetWindow]
      : ['pos', c.slotMs, c.stakeDelayBlocks];
  return encodeCanonical([
    spec.chainId,
    BigInt(spec.time),
    consensus,
    spec.hospitals.map((h) => [h.id, h.name, h.stake, h.balance]),
    spec.accounts.map((a) => [a.id, a.role]),
    spec.policyRules.map((r) => [r.fromHeight, r.version]),
  ]);
}

/** The genesis block and the state it starts the chain with. */
export interface Genesis {
  readonly block: Block;
  readonly writes: StateEntry[];
}

/** Builds the genesis block (height 0) and its state from a spec; pure and identical on every node. */
export function buildGenesis(spec: GenesisSpec): Genesis {
  const empty: StateReader = { get: () => undefined };
  const state = new StateOverlay(empty);
  state.set(stateKey.params(), encodeGenesisSpec(spec));
  for (const h of spec.hospitals) {
    putAccount(state, h.id, { role: 'hospital', nonce: 0, registeredAt: 0 });
    state.set(stateKey.hospital(h.id), encodeHospitalName(h.name));
    if (h.balance > 0n) state.set(stateKey.balance(h.id), encodeCanonical(h.balance));
  }
  state.set(stateKey.hospitalList(), encodeHospitalList(spec.hospitals.map((h) => h.id)));
  const validators = spec.hospitals
    .filter((h) => h.stake > 0n)
    .map((h) => ({ id: h.id, stake: h.stake }))
    .sort((a, b) => compareBytes(a.id, b.id));
  if (validators.length > 0) state.set(stateKey.validatorSet(), encodeValidatorSet(validators));
  for (const a of spec.accounts) putAccount(state, a.id, { role: a.role, nonce: 0, registeredAt: 0 });
  const writes = state.writes();
  const block = assembleBlock(
    {
      chainId: spec.chainId,
      height: 0,
      parent: ZERO_HASH,
      time: spec.time,
      txRoot: merkleRoot([]),
      stateRoot: nextStateRoot(EMPTY_STATE_ROOT, 0, writes),
      proposer: ZERO_HASH,
      seal: new Uint8Array(0),
    },
    [],
  );
  return { block, writes };
}

/** True when two specs describe the same chain. */
export function sameGenesis(a: GenesisSpec, b: GenesisSpec): boolean {
  return bytesEqual(encodeGenesisSpec(a), encodeGenesisSpec(b));
}
