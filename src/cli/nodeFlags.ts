import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { environmentLayer, readConfigFile, resolveConfig, type ConfigLayer, type NodeConfig } from '../node/config.ts';

/** Flags shared by `start` and `dev` that map onto configuration settings. */
export const NODE_FLAG_OPTIONS = {
  datadir: { type: 'string' },
  config: { type: 'string' },
  genesis: { type: 'string' },
  'rpc-host': { type: 'string' },
  'rpc-port': { type: 'string' },
  'rpc-cors': { type: 'string' },
  'rpc-allowed-hosts': { type: 'string' },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
  'validator-key': { type: 'string' },
  'no-rpc': { type: 'boolean' },
  'p2p-listen': { type: 'string' },
  bootstrap: { type: 'string' },
  'max-peers': { type: 'string' },
  'added-delay-ms': { type: 'string' },
  'assume-valid': { type: 'string' },
  'no-p2p': { type: 'boolean' },
} as const;

export const NODE_FLAG_HELP: [string, string][] = [
  ['--datadir <dir>', 'where the chain database and keys live'],
  ['--config <file>', 'TOML config file (default <datadir>/config.toml if present)'],
  ['--genesis <file>', 'genesis file (default <datadir>/genesis.json)'],
  ['--rpc-host <host>', 'JSON-RPC listen address (default 127.0.0.1)'],
  ['--rpc-port <port>', 'JSON-RPC port (default 8545; 0 picks a free one)'],
  ['--rpc-cors <origins>', 'comma-separated origins allowed from browsers (default none)'],
  ['--rpc-allowed-hosts <names>', 'host names the RPC and dashboards answer to besides localhost and IPs (DNS-rebinding guard)'],
  ['--log-level <level>', 'fatal, error, warn, info, debug, trace or silent'],
  ['--log-format <fmt>', 'auto (pretty on a terminal), json or pretty'],
  ['--validator-key <name>', 'key in <datadir>/keys that proposes or mines blocks'],
  ['--no-rpc', 'do not serve JSON-RPC'],
  ['--p2p-listen <addrs>', 'comma-separated multiaddrs to listen on (default /ip4/127.0.0.1/tcp/30333)'],
  ['--bootstrap <addrs>', 'comma-separated peer multiaddrs (with /p2p/<id>) to connect to'],
  ['--max-peers <n>', 'connected peers at most (default 50)'],
  ['--added-delay-ms <ms>', 'consensus lab: hold every inbound gossip message and request this long (default 0)'],
  ['--assume-valid <height:hash>', 'a block you trust: sync skips signature checks on the header chain that ends in it'],
  ['--no-p2p', 'do not join the network (a one-node chain)'],
];

type NodeFlagValues = { [K in keyof typeof NODE_FLAG_OPTIONS]?: (typeof NODE_FLAG_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

/** Resolves the node configuration: defaults < TOML file < MEDCHAIN_* environment < flags. */
export async function configFromFlags(values: NodeFlagValues, defaultDatadir: string, env: NodeJS.ProcessEnv = process.env): Promise<NodeConfig> {
  const envLayer = environmentLayer(env);
  const flagLayer: Record<string, unknown> = {
    datadir: values.datadir,
    genesis: values.genesis,
    'rpc.host': values['rpc-host'],
    'rpc.port': values['rpc-port'],
    'rpc.cors': values['rpc-cors'],
    'rpc.allowedHosts': values['rpc-allowed-hosts'],
    'log.level': values['log-level'],
    'log.format': values['log-format'],
    validatorKey: values['validator-key'],
    'rpc.enabled': values['no-rpc'] === true ? false : undefined,
    'p2p.listen': values['p2p-listen'],
    'p2p.bootstrap': values.bootstrap,
    'p2p.maxPeers': values['max-peers'],
    'p2p.addedDelayMs': values['added-delay-ms'],
    'sync.assumeValid': values['assume-valid'],
    'p2p.enabled': values['no-p2p'] === true ? false : undefined,
  };
  const datadir = (values.datadir ?? (envLayer.datadir as string | undefined) ?? defaultDatadir);
  const configPath = values.config ?? (existsSync(join(datadir, 'config.toml')) ? join(datadir, 'config.toml') : undefined);
  const fileLayer: ConfigLayer = configPath === undefined ? {} : await readConfigFile(configPath);
  return resolveConfig(
    [
      { source: configPath ?? 'config file', values: fileLayer },
      { source: 'environment', values: envLayer },
      { source: 'command line', values: flagLayer },
    ],
    defaultDatadir,
  );
}
