import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { DEFAULT_MEMPOOL_OPTIONS, type MempoolOptions } from '../chain/mempool.ts';
import { MAX_ADDED_DELAY_MS } from './addedDelay.ts';
import { fromHex } from '../codec/bytes.ts';
import type { TrustedCheckpoint } from '../p2p/sync.ts';

/** Everything a node needs to start. Precedence: command line > environment > TOML file > defaults. */
export interface NodeConfig {
  readonly datadir: string;
  /** Path of the genesis file; defaults to `<datadir>/genesis.json`, written by `medchain init`. */
  readonly genesis: string;
  readonly rpc: {
    readonly enabled: boolean;
    readonly host: string;
    readonly port: number;
    /** Origins allowed to call from a browser; empty: no CORS headers at all. */
    readonly cors: readonly string[];
    /** Host names (besides loopback names and IP addresses) the RPC answers to: a guard against DNS rebinding. */
    readonly allowedHosts: readonly string[];
    /** Token for admin_ methods; empty disables them. */
    readonly adminToken: string;
    readonly maxBodyBytes: number;
  };
  readonly log: { readonly level: LogLevel; readonly format: 'auto' | 'json' | 'pretty' };
  /** Name of the key (in `<datadir>/keys`) that proposes or mines blocks; empty: this node only follows. */
  readonly validatorKey: string;
  readonly mempool: MempoolOptions;
  readonly p2p: {
    readonly enabled: boolean;
    /** Multiaddrs to listen on (TCP). */
    readonly listen: readonly string[];
    /** Multiaddrs with /p2p/<peer id> dialled at start and redialled while disconnected. */
    readonly bootstrap: readonly string[];
    /** Connected peers at most (inbound and outbound together). */
    readonly maxPeers: number;
    /**
     * Consensus lab only: ms every inbound gossip message and request waits before it is handled, to emulate
     * a longer link (node/addedDelay.ts). 0 on any real node.
     */
    readonly addedDelayMs: number;
  };
  readonly sync: {
    /**
     * A block the operator trusts, from `HEIGHT:HASH` (p2p/sync.ts TrustedCheckpoint): blocks on the header
     * chain that ends in it are imported without checking their transaction signatures.
     */
    readonly assumeValid: TrustedCheckpoint | undefined;
  };
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A configuration value that cannot be used; the message names its source and key. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** A flat view of settings from one source: dotted key -> raw value. */
export type ConfigLayer = Readonly<Record<string, unknown>>;

/** The settings, their types and the environment variable for each. */
const SETTINGS = {
  datadir: { type: 'string', env: 'MEDCHAIN_DATADIR' },
  genesis: { type: 'string', env: 'MEDCHAIN_GENESIS' },
  'rpc.enabled': { type: 'boolean', env: 'MEDCHAIN_RPC_ENABLED' },
  'rpc.host': { type: 'string', env: 'MEDCHAIN_RPC_HOST' },
  'rpc.port': { type: 'port', env: 'MEDCHAIN_RPC_PORT' },
  'rpc.cors': { type: 'list', env: 'MEDCHAIN_RPC_CORS' },
  'rpc.allowedHosts': { type: 'list', env: 'MEDCHAIN_RPC_ALLOWED_HOSTS' },
  'rpc.adminToken': { type: 'string', env: 'MEDCHAIN_RPC_ADMIN_TOKEN' },
  'rpc.maxBodyBytes': { type: 'integer', env: 'MEDCHAIN_RPC_MAX_BODY_BYTES' },
  'log.level': { type: 'logLevel', env: 'MEDCHAIN_LOG_LEVEL' },
  'log.format': { type: 'logFormat', env: 'MEDCHAIN_LOG_FORMAT' },
  validatorKey: { type: 'string', env: 'MEDCHAIN_VALIDATOR_KEY' },
  'mempool.maxTxs': { type: 'integer', env: 'MEDCHAIN_MEMPOOL_MAX_TXS' },
  'mempool.maxBytes': { type: 'integer', env: 'MEDCHAIN_MEMPOOL_MAX_BYTES' },
  'mempool.maxPerSender': { type: 'integer', env: 'MEDCHAIN_MEMPOOL_MAX_PER_SENDER' },
  'p2p.enabled': { type: 'boolean', env: 'MEDCHAIN_P2P_ENABLED' },
  'p2p.listen': { type: 'list', env: 'MEDCHAIN_P2P_LISTEN' },
  'p2p.bootstrap': { type: 'list', env: 'MEDCHAIN_P2P_BOOTSTRAP' },
  'p2p.maxPeers': { type: 'integer', env: 'MEDCHAIN_P2P_MAX_PEERS' },
  'p2p.addedDelayMs': { type: 'integer', env: 'MEDCHAIN_P2P_ADDED_DELAY_MS' },
  'sync.assumeValid': { type: 'checkpoint', env: 'MEDCHAIN_SYNC_ASSUME_VALID' },
} as const;
type SettingKey = keyof typeof SETTINGS;

export const DEFAULT_RPC_PORT = 8545;
export const DEFAULT_P2P_PORT = 30333;

function defaults(datadir: string): Record<SettingKey, unknown> {
  return {
    datadir,
    genesis: join(datadir, 'genesis.json'),
    'rpc.enabled': true,
    'rpc.host': '127.0.0.1',
    'rpc.port': DEFAULT_RPC_PORT,
    'rpc.cors': [],
    'rpc.allowedHosts': [],
    'rpc.adminToken': '',
    'rpc.maxBodyBytes': 5 * 1024 * 1024,
    'log.level': 'info',
    'log.format': 'auto',
    validatorKey: '',
    'mempool.maxTxs': DEFAULT_MEMPOOL_OPTIONS.maxTxs,
    'mempool.maxBytes': DEFAULT_MEMPOOL_OPTIONS.maxBytes,
    'mempool.maxPerSender': DEFAULT_MEMPOOL_OPTIONS.maxPerSender,
    'p2p.enabled': true,
    'p2p.listen': [`/ip4/127.0.0.1/tcp/${DEFAULT_P2P_PORT}`],
    'p2p.bootstrap': [],
    'p2p.maxPeers': 50,
    'p2p.addedDelayMs': 0,
    'sync.assumeValid': undefined,
  };
}

/** Reads a TOML config file into a flat layer (`[rpc] port = 1` -> `rpc.port`). */
export async function readConfigFile(path: string): Promise<ConfigLayer> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read the config file ${path}: ${(error as Error).message}`);
  }
  let parsed: Record<string, unknown>;
  try {
    parsed = parseToml(text) as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError(`${path} is not valid TOML: ${(error as Error).message.split('\n')[0]}`);
  }
  const flat: Record<string, unknown> = {};
  flatten(parsed, '', flat);
  for (const key of Object.keys(flat)) {
    if (!(key in SETTINGS)) throw new ConfigError(`${path}: unknown setting "${key}" (known: ${Object.keys(SETTINGS).join(', ')})`);
  }
  return flat;
}

function flatten(value: Record<string, unknown>, prefix: string, out: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(value)) {
    const key = prefix + k;
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date)) flatten(v as Record<string, unknown>, `${key}.`, out);
    else out[key] = v;
  }
}

/** The layer set by MEDCHAIN_* environment variables. */
export function environmentLayer(env: NodeJS.ProcessEnv): ConfigLayer {
  const layer: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(SETTINGS)) {
    const value = env[setting.env];
    if (value !== undefined && value !== '') layer[key] = value;
  }
  return layer;
}

/**
 * Resolves the configuration from layers, lowest precedence first (file, environment, flags). Values from
 * the environment and flags are strings and are converted; every value is checked and a bad one is named.
 */
export function resolveConfig(layers: readonly { source: string; values: ConfigLayer }[], defaultDatadir: string): NodeConfig {
  const datadirLayer = [...layers].reverse().find((l) => l.values.datadir !== undefined);
  const datadir = resolve(convert('datadir', datadirLayer?.values.datadir ?? defaultDatadir, datadirLayer?.source ?? 'default') as string);
  const merged: Record<string, unknown> = defaults(datadir);
  const sources: Record<string, string> = {};
  for (const { source, values } of layers) {
    for (const [key, raw] of Object.entries(values)) {
      if (raw === undefined) continue;
      if (!(key in SETTINGS)) throw new ConfigError(`${source}: unknown setting "${key}"`);
      merged[key] = convert(key as SettingKey, raw, source);
      sources[key] = source;
    }
  }
  merged.datadir = datadir;
  const get = <T>(key: SettingKey): T => merged[key] as T;
  const positive = (key: SettingKey): number => {
    const n = get<number>(key);
    if (n < 1) throw new ConfigError(`${sources[key] ?? 'default'}: ${key} must be at least 1`);
    return n;
  };
  const atMost = (key: SettingKey, max: number): number => {
    const n = get<number>(key);
    if (n > max) throw new ConfigError(`${sources[key] ?? 'default'}: ${key} must be at most ${max}, got ${n}`);
    return n;
  };
  return {
    datadir,
    genesis: resolve(get<string>('genesis')),
    rpc: {
      enabled: get('rpc.enabled'),
      host: get('rpc.host'),
      port: get('rpc.port'),
      cors: get('rpc.cors'),
      allowedHosts: get('rpc.allowedHosts'),
      adminToken: get('rpc.adminToken'),
      maxBodyBytes: positive('rpc.maxBodyBytes'),
    },
    log: { level: get('log.level'), format: get('log.format') },
    validatorKey: get('validatorKey'),
    mempool: {
      maxTxs: positive('mempool.maxTxs'),
      maxBytes: positive('mempool.maxBytes'),
      maxPerSender: positive('mempool.maxPerSender'),
      maxAgeMs: DEFAULT_MEMPOOL_OPTIONS.maxAgeMs,
    },
    p2p: {
      enabled: get('p2p.enabled'),
      listen: get('p2p.listen'),
      bootstrap: get('p2p.bootstrap'),
      maxPeers: positive('p2p.maxPeers'),
      addedDelayMs: atMost('p2p.addedDelayMs', MAX_ADDED_DELAY_MS),
    },
    sync: { assumeValid: get('sync.assumeValid') },
  };
}

function convert(key: SettingKey, raw: unknown, source: string): unknown {
  const type = SETTINGS[key].type;
  const fail = (expected: string): never => {
    throw new ConfigError(`${source}: ${key} must be ${expected}, got ${JSON.stringify(raw)}`);
  };
  switch (type) {
    case 'string':
      return typeof raw === 'string' ? raw : fail('a string');
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      return fail('true or false');
    case 'integer':
    case 'port': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^[0-9]+$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(n) || n < 0) return fail('a non-negative integer');
      if (type === 'port' && n > 65535) return fail('a port from 0 to 65535');
      return n;
    }
    case 'list':
      if (Array.isArray(raw) && raw.every((x) => typeof x === 'string')) return raw;
      if (typeof raw === 'string') return raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
      return fail('a list of strings');
    case 'logLevel':
      return LOG_LEVELS.includes(raw as LogLevel) ? raw : fail(`one of ${LOG_LEVELS.join(', ')}`);
    case 'logFormat':
      return raw === 'auto' || raw === 'json' || raw === 'pretty' ? raw : fail('auto, json or pretty');
    case 'checkpoint': {
      if (raw === '') return undefined;
      const match = typeof raw === 'string' ? /^([0-9]{1,10}):(?:0x)?([0-9a-fA-F]{64})$/.exec(raw) : null;
      const height = match === null ? NaN : Number(match[1]);
      if (match === null || height < 1 || height > 0xffffffff) return fail('HEIGHT:HASH (a height from 1 and a 32-byte block hash in hex)');
      return { height, hash: fromHex(match[2]!.toLowerCase())! };
    }
  }
}
