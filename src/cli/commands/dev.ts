import { copyFile, mkdir, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { signTransaction } from '../../client/signTransaction.ts';
import { toHex, utf8 } from '../../codec/bytes.ts';
import { fingerprint, keyPairFromSeed, type KeyPair } from '../../crypto/ed25519.ts';
import { sha256 } from '../../crypto/hash.ts';
import { createKey, loadKey } from '../../keys/keystore.ts';
import type { MedchainNode } from '../../node/node.ts';
import { getAccount, getAttestation } from '../../state/accessors.ts';
import { TxType } from '../../types/transaction.ts';
import type { Logger } from '../../util/logger.ts';
import { helpText, parseFlags } from '../args.ts';
import { UsageError, type Command } from '../command.ts';
import { configFromFlags, NODE_FLAG_HELP, NODE_FLAG_OPTIONS } from '../nodeFlags.ts';
import { runNode } from '../runNode.ts';

/** The dev chain's genesis time is fixed, so its genesis hash (and datadir) stays the same across runs. */
export const DEV_GENESIS_TIME = Date.UTC(2026, 0, 1);
export const DEV_CHAIN_ID = 'medchain-dev';
const DEMO_ACCOUNTS = ['hospital', 'doctor', 'patient'] as const;
type DemoName = (typeof DEMO_ACCOUNTS)[number];

const examples = [
  'medchain dev                      # PoS dev chain in ./.medchain-dev/pos, RPC on 127.0.0.1:8545',
  'medchain dev --engine pow --reset # a fresh proof-of-work dev chain',
];

/** Demo keys are derived from fixed names: public knowledge, for a local dev chain only. */
function demoSeed(name: DemoName): Uint8Array {
  return sha256(utf8(`medchain-dev-demo-account/${name}`));
}

/** The demo accounts' key pairs. */
export function demoKeys(): Record<DemoName, KeyPair> {
  return Object.fromEntries(DEMO_ACCOUNTS.map((name) => [name, keyPairFromSeed(demoSeed(name))])) as Record<DemoName, KeyPair>;
}

/** The dev chain's genesis: one hospital holding all stake, the demo doctor and patient registered. */
export function devGenesis(engine: 'pos' | 'pow', keys: Record<DemoName, KeyPair>): object {
  return {
    chainId: DEV_CHAIN_ID,
    time: DEV_GENESIS_TIME,
    consensus: engine === 'pos' ? { engine, slotMs: 1000 } : { engine, targetBlockMs: 1000, initialDifficulty: 300_000, minDifficulty: 1000 },
    hospitals: [{ id: toHex(keys.hospital.publicKey), name: 'Demo General Hospital', stake: 1000 }],
    accounts: [
      { id: toHex(keys.doctor.publicKey), role: 'doctor' },
      { id: toHex(keys.patient.publicKey), role: 'patient' },
    ],
  };
}

export const devCommand: Command = {
  name: 'dev',
  summary: 'Run a one-process dev chain with demo hospital, doctor and patient accounts.',
  usage: 'medchain dev [--engine pos|pow] [--reset] [options]',
  examples,
  async run(args, io, signal) {
    const { values } = parseFlags(args, { ...NODE_FLAG_OPTIONS, engine: { type: 'string' }, reset: { type: 'boolean' } });
    if (values.help) {
      io.out(
        helpText(this.usage, this.summary, [['--engine pos|pow', 'consensus engine (default pos)'], ['--reset', 'delete the dev datadir first'], ...NODE_FLAG_HELP], examples),
      );
      return 0;
    }
    const engine = values.engine ?? 'pos';
    if (engine !== 'pos' && engine !== 'pow') throw new UsageError(`--engine must be pos or pow, got "${engine}"`);
    const datadir = resolve(values.datadir ?? join('.medchain-dev', engine));
    if (values.reset) await rm(datadir, { recursive: true, force: true });
    await mkdir(datadir, { recursive: true, mode: 0o700 });
    const keys = {} as Record<DemoName, KeyPair>;
    for (const name of DEMO_ACCOUNTS) {
      const exists = existsSync(join(datadir, 'keys', `${name}.json`));
      keys[name] = (exists ? await loadKey(datadir, name) : await createKey(datadir, name, demoSeed(name))).keyPair;
    }
    // config/ holds the dev genesis files (the engine is chosen there); test/unit/cli keeps them equal to devGenesis.
    await copyFile(fileURLToPath(new URL(`../../../config/genesis.dev-${engine}.json`, import.meta.url)), join(datadir, 'genesis.json'));
    // A dev chain is one node: it joins a network only when asked to listen or given peers.
    const networked = values['p2p-listen'] !== undefined || values.bootstrap !== undefined;
    const config = await configFromFlags(
      { ...values, datadir, 'validator-key': values['validator-key'] ?? 'hospital', 'no-p2p': values['no-p2p'] ?? !networked },
      datadir,
    );

    io.err('');
    io.err('  medchain dev chain: DEMO KEYS, public knowledge, never use them for real records');
    for (const name of DEMO_ACCOUNTS) {
      io.err(`  ${name.padEnd(9)} ${toHex(keys[name].publicKey)}  (${fingerprint(keys[name].publicKey)})  seed ${toHex(keys[name].seed)}`);
    }
    io.err(`  key files in ${join(datadir, 'keys')}`);
    io.err('');
    return runNode(config, signal, (node, logger) => attestDemoDoctor(node, keys, logger));
  },
};

/** Gives the dev chain some history: the demo hospital attests the demo doctor (once per datadir). */
async function attestDemoDoctor(node: MedchainNode, keys: Record<DemoName, KeyPair>, logger: Logger): Promise<void> {
  const state = node.chain.state;
  if (getAttestation(state, keys.doctor.publicKey, keys.hospital.publicKey) !== undefined) return;
  const nonce = getAccount(state, keys.hospital.publicKey)?.nonce ?? 0;
  const tx = signTransaction(
    {
      chainId: DEV_CHAIN_ID,
      sender: keys.hospital.publicKey,
      nonce,
      body: { type: TxType.AttestDoctor, doctor: keys.doctor.publicKey, name: 'Dr. Demo Doctor', licence: 'DEMO-0001', expiresAt: Date.now() + 365 * 86_400_000 },
    },
    keys.hospital.secretKey,
  );
  node.mempool.add(tx);
  logger.info({ tx: toHex(tx.id) }, 'submitted the demo attestation of the demo doctor');
}
