// Prepares docker/compose.yaml's three-hospital network: each hospital's validator key and libp2p peer key in
// docker/data/<hospital> (its datadir, mounted at /data), and docker/.env with the user id the containers run
// as (so they can read those 0600 key files).
//
//   node docker/setup.ts           demo keys: derived from fixed names, matching the committed genesis.json
//                                  and hospital-*.toml; PUBLIC KNOWLEDGE, for trying the network out only
//   node docker/setup.ts --fresh   random keys; rewrites genesis.json and the bootstrap lists of hospital-*.toml
//
// Run it through docker/setup.sh, which picks a Node 24 to run it with.

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateKeyPair, generateKeyPairFromSeed, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { toHex, utf8 } from '../src/codec/bytes.ts';
import { keyPairFromSeed, type KeyPair } from '../src/crypto/ed25519.ts';
import { sha256 } from '../src/crypto/hash.ts';
import { createKey, loadKey } from '../src/keys/keystore.ts';
import { parseGenesis } from '../src/state/genesis.ts';

export const DOCKER_DIR = dirname(fileURLToPath(import.meta.url));
export const DOCKER_HOSPITALS = ['hospital-a', 'hospital-b', 'hospital-c'] as const;
export type DockerHospital = (typeof DOCKER_HOSPITALS)[number];
export const DOCKER_CHAIN_ID = 'medchain-docker';
/** The demo genesis time is fixed, so the committed genesis.json never changes. */
export const DOCKER_GENESIS_TIME = Date.UTC(2026, 0, 1);
export const RPC_PORT = 8545;
export const P2P_PORT = 30333;
const VALIDATOR_KEY = 'validator';
/** The `node` user of the node:24-slim image. */
const IMAGE_UID = 1000;

/** A hospital's two keys: the validator key named in genesis, and the libp2p key its peer id comes from. */
export interface HospitalIdentity {
  readonly name: DockerHospital;
  readonly validator: KeyPair;
  readonly peerKey: PrivateKey;
  readonly peerId: string;
}

/** The demo identity of a hospital, derived from its name: anyone can recompute these keys. */
export async function demoIdentity(name: DockerHospital): Promise<HospitalIdentity> {
  const validator = keyPairFromSeed(sha256(utf8(`medchain-docker-demo/${name}/validator`)));
  const peerKey = await generateKeyPairFromSeed('Ed25519', sha256(utf8(`medchain-docker-demo/${name}/peer`)));
  return { name, validator, peerKey, peerId: peerIdFromPrivateKey(peerKey).toString() };
}

async function freshIdentity(name: DockerHospital): Promise<HospitalIdentity> {
  const validator = keyPairFromSeed(randomBytes(32));
  const peerKey = await generateKeyPair('Ed25519');
  return { name, validator, peerKey, peerId: peerIdFromPrivateKey(peerKey).toString() };
}

function title(name: DockerHospital): string {
  return `Hospital ${name.slice(-1).toUpperCase()}`;
}

/** The network's genesis: the three hospitals as validators with equal stake, PoS with 2 s slots. */
export function dockerGenesis(identities: readonly HospitalIdentity[], time: number): object {
  return {
    chainId: DOCKER_CHAIN_ID,
    time,
    consensus: { engine: 'pos', slotMs: 2000 },
    hospitals: identities.map((h) => ({ id: toHex(h.validator.publicKey), name: title(h.name), stake: 1000 })),
    accounts: [],
  };
}

/** A hospital's config file: the node's own TOML format, bootstrapped to the other hospitals by service name. */
export function hospitalToml(self: DockerHospital, identities: readonly HospitalIdentity[]): string {
  const others = identities.filter((h) => h.name !== self);
  return `# medchain node configuration of ${self} in docker/compose.yaml (written by docker/setup.ts).
# Mounted at /config/medchain.toml; flags and MEDCHAIN_* variables still override it.
datadir = "/data"
genesis = "/config/genesis.json"
validatorKey = "${VALIDATOR_KEY}"

[rpc]
# Every interface inside the container: compose publishes the port on the host's 127.0.0.1 only.
host = "0.0.0.0"
port = ${RPC_PORT}

[log]
level = "info"
format = "json"

[p2p]
enabled = true
listen = ["/ip4/0.0.0.0/tcp/${P2P_PORT}"]
# The other hospitals, by their compose service names; the peer ids are those of the keys in docker/data.
bootstrap = [
${others.map((h) => `  "/dns4/${h.name}/tcp/${P2P_PORT}/p2p/${h.peerId}",`).join('\n')}
]
maxPeers = 50
`;
}

/** The genesis file as setup writes it. */
export function genesisJson(identities: readonly HospitalIdentity[], time: number): string {
  const json = dockerGenesis(identities, time);
  parseGenesis(json); // never write a genesis the node would refuse
  return JSON.stringify(json, null, 2) + '\n';
}

/** Writes a hospital's keys into its datadir; a key already there must be the same key. */
async function installKeys(datadir: string, identity: HospitalIdentity): Promise<'written' | 'kept'> {
  const keyFile = join(datadir, 'keys', `${VALIDATOR_KEY}.json`);
  const peerFile = join(datadir, 'p2p', 'peer-key');
  const hasKey = existsSync(keyFile);
  const hasPeer = existsSync(peerFile);
  if (hasKey || hasPeer) {
    const sameKey = hasKey && toHex((await loadKey(datadir, VALIDATOR_KEY)).keyPair.publicKey) === toHex(identity.validator.publicKey);
    const samePeer = hasPeer && peerIdFromPrivateKey(privateKeyFromProtobuf(new Uint8Array(await readFile(peerFile)))).toString() === identity.peerId;
    if (sameKey && samePeer) return 'kept';
    throw new Error(
      `${datadir} already holds other keys than the ones this setup would write; delete ${join(DOCKER_DIR, 'data')} ` +
        '(the chains in it too) to set the network up again',
    );
  }
  await mkdir(datadir, { recursive: true, mode: 0o700 });
  await createKey(datadir, VALIDATOR_KEY, identity.validator.seed);
  await mkdir(dirname(peerFile), { recursive: true, mode: 0o700 });
  await writeFile(peerFile, privateKeyToProtobuf(identity.peerKey), { mode: 0o600, flag: 'wx' });
  await chmod(peerFile, 0o600);
  return 'written';
}

async function chownTree(path: string, uid: number, gid: number): Promise<void> {
  await chown(path, uid, gid);
  for (const entry of await readdir(path, { withFileTypes: true })) {
    if (entry.isDirectory()) await chownTree(join(path, entry.name), uid, gid);
    else await chown(join(path, entry.name), uid, gid);
  }
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { fresh: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) {
    console.log('Usage: docker/setup.sh [--fresh]\n\n  (no flag)  demo keys matching the committed genesis.json and hospital-*.toml\n  --fresh    random keys; rewrites genesis.json and hospital-*.toml');
    return;
  }
  const fresh = values.fresh === true;
  const identities = await Promise.all(DOCKER_HOSPITALS.map((name) => (fresh ? freshIdentity(name) : demoIdentity(name))));
  const genesisPath = join(DOCKER_DIR, 'genesis.json');
  const tomlPath = (name: DockerHospital): string => join(DOCKER_DIR, `${name}.toml`);

  if (fresh) {
    // New keys mean a new chain: never mix them with datadirs (and chains) made for other keys.
    const used = identities.map((h) => join(DOCKER_DIR, 'data', h.name)).filter((d) => existsSync(join(d, 'keys')) || existsSync(join(d, 'p2p')));
    if (used.length > 0) throw new Error(`${used.join(', ')} already hold keys; delete ${join(DOCKER_DIR, 'data')} (the chains in it too) to set up a fresh network`);
    await writeFile(genesisPath, genesisJson(identities, Math.floor(Date.now() / 1000) * 1000));
    for (const h of identities) await writeFile(tomlPath(h.name), hospitalToml(h.name, identities));
  } else {
    // The demo keys only work with the committed files; after a --fresh run they no longer match.
    const expectedGenesis = genesisJson(identities, DOCKER_GENESIS_TIME);
    const stale = [
      ...((await readFile(genesisPath, 'utf8')) === expectedGenesis ? [] : [genesisPath]),
      ...(
        await Promise.all(identities.map(async (h) => ((await readFile(tomlPath(h.name), 'utf8')) === hospitalToml(h.name, identities) ? [] : [tomlPath(h.name)])))
      ).flat(),
    ];
    if (stale.length > 0) {
      throw new Error(
        `${stale.join(', ')} no longer describe the demo network: --fresh rewrote them for the keys it put in ` +
          `${join(DOCKER_DIR, 'data')}, which need no further setup. To go back to the demo keys, delete that folder and run git checkout docker/`,
      );
    }
  }
  for (const h of identities) {
    const outcome = await installKeys(join(DOCKER_DIR, 'data', h.name), h);
    console.log(`${h.name}: validator ${toHex(h.validator.publicKey)}, peer id ${h.peerId} (${outcome === 'written' ? 'keys written' : 'keys already there'})`);
  }
  // The containers run as the user owning the 0600 key files, so they can read them and write the chain next
  // to them. Never as root: run as root, setup hands the datadirs to the image's unprivileged user instead.
  let uid = process.getuid?.() ?? IMAGE_UID;
  let gid = process.getgid?.() ?? IMAGE_UID;
  if (uid === 0) {
    uid = IMAGE_UID;
    gid = IMAGE_UID;
    for (const h of identities) await chownTree(join(DOCKER_DIR, 'data', h.name), uid, gid);
  }
  await writeFile(join(DOCKER_DIR, '.env'), `# written by docker/setup.ts: the user the medchain containers run as\nMEDCHAIN_UID=${uid}\nMEDCHAIN_GID=${gid}\n`);
  if (!fresh) console.log('DEMO KEYS: derived from public names, anyone can sign as these hospitals. Use --fresh for anything real.');
  console.log(`genesis: ${genesisPath}\nnext: docker compose -f ${join(DOCKER_DIR, 'compose.yaml')} up --build`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    await main(process.argv.slice(2));
  } catch (error) {
    console.error(`setup: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}
