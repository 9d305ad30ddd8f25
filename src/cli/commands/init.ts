import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { toHex } from '../../codec/bytes.ts';
import { createKey, loadKey } from '../../keys/keystore.ts';
import { readGenesisFile } from '../../node/node.ts';
import { CHAIN_ID_PATTERN } from '../../types/primitives.ts';
import { helpText, parseFlags } from '../args.ts';
import { UsageError, type Command } from '../command.ts';
import { DEFAULT_DATADIR } from './start.ts';

const examples = [
  'medchain init --datadir ./node1 --genesis config/genesis.pos.json   # join a network: copy its genesis',
  'medchain init --datadir ./solo --engine pow --chain-id my-lab          # a new one-hospital chain',
];

const VALIDATOR_KEY = 'validator';

export const initCommand: Command = {
  name: 'init',
  summary: 'Create a datadir: a validator key, the genesis file and a config.toml.',
  usage: 'medchain init [--datadir <dir>] (--genesis <file> | --engine pos|pow [--chain-id <id>] [--hospital-name <name>])',
  examples,
  async run(args, io) {
    const { values } = parseFlags(args, {
      datadir: { type: 'string' },
      genesis: { type: 'string' },
      engine: { type: 'string' },
      'chain-id': { type: 'string' },
      'hospital-name': { type: 'string' },
    });
    if (values.help) {
      io.out(
        helpText(this.usage, this.summary, [
          ['--datadir <dir>', `the datadir to create (default ${DEFAULT_DATADIR})`],
          ['--genesis <file>', "an existing network's genesis file, copied in"],
          ['--engine pos|pow', 'start a new chain where this node is the only hospital'],
          ['--chain-id <id>', 'chain id of a new chain (default medchain-local)'],
          ['--hospital-name <name>', 'name of this hospital in a new genesis'],
        ], examples),
      );
      return 0;
    }
    const datadir = resolve(values.datadir ?? DEFAULT_DATADIR);
    const genesisPath = join(datadir, 'genesis.json');
    if (existsSync(genesisPath)) throw new UsageError(`${datadir} is already initialised (${genesisPath} exists)`, 1);
    if ((values.genesis === undefined) === (values.engine === undefined)) {
      throw new UsageError('give either --genesis <file> (join a network) or --engine pos|pow (new chain)');
    }
    await mkdir(datadir, { recursive: true, mode: 0o700 });
    const key = existsSync(join(datadir, 'keys', `${VALIDATOR_KEY}.json`)) ? await loadKey(datadir, VALIDATOR_KEY) : await createKey(datadir, VALIDATOR_KEY);
    if (values.genesis !== undefined) {
      await readGenesisFile(values.genesis); // validate before copying
      await copyFile(values.genesis, genesisPath);
    } else {
      const engine = values.engine;
      if (engine !== 'pos' && engine !== 'pow') throw new UsageError(`--engine must be pos or pow, got "${engine}"`);
      const chainId = values['chain-id'] ?? 'medchain-local';
      if (!CHAIN_ID_PATTERN.test(chainId)) throw new UsageError(`--chain-id must match ${CHAIN_ID_PATTERN.source}`);
      const genesis = {
        chainId,
        time: Date.now(),
        consensus: engine === 'pos' ? { engine, slotMs: 2000 } : { engine, targetBlockMs: 2000, initialDifficulty: 200_000, minDifficulty: 1000 },
        hospitals: [{ id: toHex(key.keyPair.publicKey), name: values['hospital-name'] ?? 'Local Hospital', stake: 1000 }],
        accounts: [],
      };
      await writeFile(genesisPath, JSON.stringify(genesis, null, 2) + '\n');
      await readGenesisFile(genesisPath);
    }
    const configPath = join(datadir, 'config.toml');
    if (!existsSync(configPath)) {
      await writeFile(configPath, `# medchain node configuration (flags and MEDCHAIN_* variables override it)\nvalidatorKey = "${VALIDATOR_KEY}"\n\n[rpc]\nhost = "127.0.0.1"\nport = 8545\n`);
    }
    io.out(`initialised ${datadir}`);
    io.out(`  genesis:       ${genesisPath}`);
    io.out(`  validator key: ${toHex(key.keyPair.publicKey)}`);
    io.out(`  config:        ${configPath}`);
    io.out(`start it with: medchain start --datadir ${datadir}`);
    return 0;
  },
};
