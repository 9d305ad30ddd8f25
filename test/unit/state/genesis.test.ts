/** The genesis file: every malformed field is refused with its JSON path; the genesis block is a pure function of the spec. */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../../src/codec/bytes.ts';
import { policyFlagsAtVersion } from '../../../src/script/flags.ts';
import { getAccount, getHospitals, getHospitalName, getValidatorSet } from '../../../src/state/accessors.ts';
import { GenesisError, buildGenesis, parseGenesis, policyFlagsAt, sameGenesis } from '../../../src/state/genesis.ts';
import { MemoryState } from '../../../src/state/overlay.ts';
import { testKey } from '../../helpers/fixtures.ts';

const h1 = toHex(testKey('hospital').publicKey);
const h2 = toHex(testKey('other-hospital').publicKey);
const p1 = toHex(testKey('patient').publicKey);

type Doc = Record<string, unknown>;

function baseDoc(): Doc {
  return {
    chainId: 'medchain-test',
    time: 1_764_000_000_000,
    consensus: { engine: 'pos', slotMs: 1000 },
    hospitals: [
      { id: h1, name: 'General Hospital', stake: 100 },
      { id: h2, name: 'St Elsewhere', stake: '300' },
    ],
    accounts: [{ id: p1, role: 'patient' }],
    policyRules: [{ fromHeight: 0, version: 0 }],
  };
}

const powConsensus = { engine: 'pow', targetBlockMs: 1000, initialDifficulty: 16, minDifficulty: 2, retargetWindow: 20 };

/** A base document changed by `edit`. */
function doc(edit: (d: Doc) => void): Doc {
  const d = structuredClone(baseDoc());
  edit(d);
  return d;
}
const hospital0 = (d: Doc) => (d.hospitals as Doc[])[0]!;

const bad: [name: string, input: unknown, path: string][] = [
  ['not an object', 42, '$'],
  ['null', null, '$'],
  ['an array', [baseDoc()], '$'],
  ['no chain id', doc((d) => delete d.chainId), '$.chainId'],
  ['a numeric chain id', doc((d) => (d.chainId = 7)), '$.chainId'],
  ['an uppercase chain id', doc((d) => (d.chainId = 'MedChain')), '$.chainId'],
  ['a 33-character chain id', doc((d) => (d.chainId = 'a'.repeat(33))), '$.chainId'],
  ['a negative time', doc((d) => (d.time = -1)), '$.time'],
  ['a fractional time', doc((d) => (d.time = 1.5)), '$.time'],
  ['a time as a string', doc((d) => (d.time = '1764000000000')), '$.time'],
  ['a time above 2^53 - 1', doc((d) => (d.time = 2 ** 53)), '$.time'],
  ['no consensus', doc((d) => delete d.consensus), '$.consensus'],
  ['an unknown engine', doc((d) => (d.consensus = { engine: 'poa' })), '$.consensus.engine'],
  ['a PoS slot under 100 ms', doc((d) => (d.consensus = { engine: 'pos', slotMs: 99 })), '$.consensus.slotMs'],
  ['a PoS slot missing', doc((d) => (d.consensus = { engine: 'pos' })), '$.consensus.slotMs'],
  ['a PoW target under 10 ms', doc((d) => (d.consensus = { ...powConsensus, targetBlockMs: 9 })), '$.consensus.targetBlockMs'],
  ['a PoW min difficulty of 0', doc((d) => (d.consensus = { ...powConsensus, minDifficulty: 0 })), '$.consensus.minDifficulty'],
  ['an initial difficulty under the minimum', doc((d) => (d.consensus = { ...powConsensus, initialDifficulty: 1 })), '$.consensus.initialDifficulty'],
  ['a retarget window of 0', doc((d) => (d.consensus = { ...powConsensus, retargetWindow: 0 })), '$.consensus.retargetWindow'],
  ['no hospitals', doc((d) => delete d.hospitals), '$.hospitals'],
  ['an empty hospital list', doc((d) => (d.hospitals = [])), '$.hospitals'],
  ['1001 hospitals', doc((d) => (d.hospitals = new Array(1001).fill(hospital0(d)))), '$.hospitals'],
  ['a hospital that is a string', doc((d) => ((d.hospitals as unknown[])[1] = h2)), '$.hospitals[1]'],
  ['an uppercase hospital id', doc((d) => (hospital0(d).id = h1.toUpperCase())), '$.hospitals[0].id'],
  ['a 31-byte hospital id', doc((d) => (hospital0(d).id = h1.slice(2))), '$.hospitals[0].id'],
  ['a 0x-prefixed hospital id', doc((d) => (hospital0(d).id = '0x' + h1)), '$.hospitals[0].id'],
  ['an empty hospital name', doc((d) => (hospital0(d).name = '')), '$.hospitals[0].name'],
  ['a 129-character hospital name', doc((d) => (hospital0(d).name = 'n'.repeat(129))), '$.hospitals[0].name'],
  ['a missing hospital name', doc((d) => delete hospital0(d).name), '$.hospitals[0].name'],
  ['a negative stake', doc((d) => (hospital0(d).stake = -1)), '$.hospitals[0].stake'],
  ['a fractional stake', doc((d) => (hospital0(d).stake = 0.5)), '$.hospitals[0].stake'],
  ['a stake string in exponent form', doc((d) => (hospital0(d).stake = '1e3')), '$.hospitals[0].stake'],
  ['a stake of 2^63', doc((d) => (hospital0(d).stake = '9223372036854775808')), '$.hospitals[0].stake'],
  ['a negative balance', doc((d) => (hospital0(d).balance = -5)), '$.hospitals[0].balance'],
  ['stakes and balances summing above 2^63 - 1', doc((d) => Object.assign(hospital0(d), { stake: '9223372036854775000', balance: 1000 })), '$.hospitals'],
  ['a PoS stake delay of 0', doc((d) => (d.consensus = { engine: 'pos', slotMs: 1000, stakeDelayBlocks: 0 })), '$.consensus.stakeDelayBlocks'],
  ['PoS with no stake at all', doc((d) => (d.hospitals = [{ id: h1, name: 'A', stake: 0 }])), '$.hospitals'],
  ['accounts not a list', doc((d) => (d.accounts = {})), '$.accounts'],
  ['an account with the hospital role', doc((d) => (d.accounts = [{ id: p1, role: 'hospital' }])), '$.accounts[0].role'],
  ['an account with a bad id', doc((d) => (d.accounts = [{ id: 'zz', role: 'patient' }])), '$.accounts[0].id'],
  ['an account that is also a hospital', doc((d) => (d.accounts = [{ id: h1, role: 'doctor' }])), '$'],
  ['a hospital listed twice', doc((d) => (d.hospitals = [hospital0(d), hospital0(d)])), '$'],
  ['policy rules not a list', doc((d) => (d.policyRules = 0)), '$.policyRules'],
  ['no rule from height 0', doc((d) => (d.policyRules = [{ fromHeight: 5, version: 0 }])), '$.policyRules'],
  ['an empty rule list', doc((d) => (d.policyRules = [])), '$.policyRules'],
  ['a rule that is not an object', doc((d) => (d.policyRules = [[0, 0]])), '$.policyRules[0]'],
  ['an unknown rule version', doc((d) => (d.policyRules = [{ fromHeight: 0, version: 99 }])), '$.policyRules[0].version'],
  [
    'rule heights not increasing',
    doc((d) => (d.policyRules = [{ fromHeight: 0, version: 0 }, { fromHeight: 0, version: 0 }])),
    '$.policyRules[1].fromHeight',
  ],
  [
    'a rule version going down',
    doc((d) => (d.policyRules = [{ fromHeight: 0, version: 1 }, { fromHeight: 10, version: 0 }])),
    '$.policyRules[1].version',
  ],
];

describe('parseGenesis', () => {
  it('accepts the base document of the table below', () => {
    const spec = parseGenesis(baseDoc());
    expect(spec.hospitals.map((h) => h.stake)).toEqual([100n, 300n]);
    expect(spec.accounts).toHaveLength(1);
    expect(parseGenesis(doc((d) => (d.consensus = powConsensus))).consensus).toEqual(powConsensus);
  });

  it.each(bad)('refuses %s, naming the JSON path', (_name, input, path) => {
    let error: unknown;
    try {
      parseGenesis(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GenesisError);
    expect((error as GenesisError).message.startsWith(`genesis ${path}: `), (error as GenesisError).message).toBe(true);
  });

  it('fills defaults: no accounts, the newest policy rules, PoW minimum difficulty 1 and window 20', () => {
    const spec = parseGenesis(
      doc((d) => {
        delete d.accounts;
        delete d.policyRules;
        d.consensus = { engine: 'pow', targetBlockMs: 500, initialDifficulty: 8 };
      }),
    );
    expect(spec.accounts).toEqual([]);
    expect(spec.policyRules).toHaveLength(1);
    expect(spec.consensus).toEqual({ engine: 'pow', targetBlockMs: 500, initialDifficulty: 8, minDifficulty: 1, retargetWindow: 20 });
  });

  it('policyFlagsAt follows the activation heights', () => {
    const spec = parseGenesis(doc((d) => (d.policyRules = [{ fromHeight: 0, version: 0 }, { fromHeight: 10, version: 1 }])));
    expect(policyFlagsAt(spec, 9)).toBe(policyFlagsAtVersion(0));
    expect(policyFlagsAt(spec, 10)).toBe(policyFlagsAtVersion(1));
    expect(policyFlagsAtVersion(0)).not.toBe(policyFlagsAtVersion(1));
  });
});

describe('buildGenesis', () => {
  it('is deterministic: the same document gives the same block and state, byte for byte', () => {
    const a = buildGenesis(parseGenesis(baseDoc()));
    const b = buildGenesis(parseGenesis(baseDoc()));
    expect(toHex(a.block.bytes)).toBe(toHex(b.block.bytes));
    expect(a.writes.map((w) => [toHex(w.key), toHex(w.value!)])).toEqual(b.writes.map((w) => [toHex(w.key), toHex(w.value!)]));
    expect(a.block.header).toMatchObject({ height: 0, time: 1_764_000_000_000, chainId: 'medchain-test', seal: new Uint8Array(0) });
  });

  it('different specs give different genesis hashes', () => {
    const variants: Doc[] = [
      baseDoc(),
      doc((d) => (d.chainId = 'medchain-test2')),
      doc((d) => (d.time = 1_764_000_000_001)),
      doc((d) => (d.consensus = { engine: 'pos', slotMs: 1001 })),
      doc((d) => (d.consensus = powConsensus)),
      doc((d) => (d.consensus = { ...powConsensus, initialDifficulty: 17 })),
      doc((d) => (d.consensus = { ...powConsensus, minDifficulty: 3 })),
      doc((d) => (d.consensus = { ...powConsensus, retargetWindow: 21 })),
      doc((d) => (d.consensus = { ...powConsensus, targetBlockMs: 1001 })),
      doc((d) => (hospital0(d).name = 'General Hospital.')),
      doc((d) => (hospital0(d).stake = 101)),
      doc((d) => (d.hospitals = [...(d.hospitals as Doc[])].reverse())),
      doc((d) => (d.accounts = [])),
      doc((d) => (d.accounts = [{ id: p1, role: 'doctor' }])),
      doc((d) => (d.policyRules = [{ fromHeight: 0, version: 1 }])),
      doc((d) => (d.policyRules = [{ fromHeight: 0, version: 0 }, { fromHeight: 5, version: 1 }])),
    ];
    const hashes = variants.map((v) => toHex(buildGenesis(parseGenesis(v)).block.hash));
    expect(new Set(hashes).size).toBe(variants.length);
    const specs = variants.map((v) => parseGenesis(v));
    expect(sameGenesis(specs[0]!, parseGenesis(baseDoc()))).toBe(true);
    expect(specs.slice(1).some((s) => sameGenesis(specs[0]!, s))).toBe(false);
  });

  it('writes the hospitals, the sorted validator set of staked hospitals and the genesis accounts', () => {
    // Listed in descending id order, so the validator set has to be sorted to come out ascending.
    const [low, high] = [h1, h2].sort();
    const spec = parseGenesis(
      doc(
        (d) =>
          (d.hospitals = [
            { id: high, name: 'High', stake: 300 },
            { id: '00'.repeat(32), name: 'Clinic', stake: 0 },
            { id: low, name: 'Low', stake: 100 },
          ]),
      ),
    );
    const state = new MemoryState();
    state.apply(buildGenesis(spec).writes);
    expect(getHospitals(state).map(toHex)).toEqual(spec.hospitals.map((h) => toHex(h.id)));
    expect(getHospitalName(state, new Uint8Array(32))).toBe('Clinic');
    const validators = getValidatorSet(state);
    expect(validators.map((v) => [toHex(v.id), v.stake])).toEqual([
      [low, 100n],
      [high, 300n],
    ]);
    expect(getAccount(state, testKey('hospital').publicKey)).toEqual({ role: 'hospital', nonce: 0, registeredAt: 0 });
    expect(getAccount(state, testKey('patient').publicKey)).toEqual({ role: 'patient', nonce: 0, registeredAt: 0 });
  });
});
