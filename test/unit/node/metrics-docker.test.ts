// The docker/ files (there is no Docker engine here to try them): the configs compose mounts parse with the
// node's own config reader and agree with the genesis, the peer keys setup.ts writes, the compose services and
// the image's HEALTHCHECK on /health.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DOCKER_DIR, DOCKER_GENESIS_TIME, DOCKER_HOSPITALS, P2P_PORT, RPC_PORT, demoIdentity, genesisJson, hospitalToml } from '../../../docker/setup.ts';
import { HEALTH_PATH } from '../../../src/node/health.ts';
import { readConfigFile, resolveConfig } from '../../../src/node/config.ts';
import { peerIdOfMultiaddr } from '../../../src/rpc/methods/netMethods.ts';
import { parseGenesis } from '../../../src/state/genesis.ts';
import { toHex } from '../../../src/codec/bytes.ts';

const read = (name: string): string => readFileSync(join(DOCKER_DIR, name), 'utf8');
const identities = await Promise.all(DOCKER_HOSPITALS.map(demoIdentity));

/** The lines of one service block of compose.yaml (two-space indented key, until the next one). */
function serviceBlock(compose: string, service: string): string[] {
  const lines = compose.split('\n');
  const start = lines.indexOf(`  ${service}:`);
  if (start === -1) throw new Error(`compose.yaml has no service ${service}`);
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((line) => /^ {2}\S/.test(line) || /^\S/.test(line));
  return end === -1 ? rest : rest.slice(0, end);
}

describe('docker/', () => {
  it('genesis.json is the demo network of the three hospitals with equal stake', () => {
    const text = read('genesis.json');
    expect(text).toBe(genesisJson(identities, DOCKER_GENESIS_TIME));
    const genesis = parseGenesis(JSON.parse(text));
    expect(genesis.hospitals.map((h) => [h.name, h.stake])).toEqual([
      ['Hospital A', 1000n],
      ['Hospital B', 1000n],
      ['Hospital C', 1000n],
    ]);
    expect(genesis.hospitals.map((h) => toHex(h.id))).toEqual(identities.map((h) => toHex(h.validator.publicKey)));
  });

  it.each(DOCKER_HOSPITALS)('%s.toml parses with the node config reader: RPC on 0.0.0.0, bootstrapped to the others by service name', async (name) => {
    expect(read(`${name}.toml`)).toBe(hospitalToml(name, identities));
    const layer = await readConfigFile(join(DOCKER_DIR, `${name}.toml`));
    const config = resolveConfig([{ source: `${name}.toml`, values: layer }], '/unused');
    expect(config).toMatchObject({
      datadir: '/data',
      genesis: '/config/genesis.json',
      validatorKey: 'validator',
      rpc: { enabled: true, host: '0.0.0.0', port: RPC_PORT, adminToken: '' },
      p2p: { enabled: true, listen: [`/ip4/0.0.0.0/tcp/${P2P_PORT}`], maxPeers: 50 },
    });
    const others = identities.filter((h) => h.name !== name);
    expect(config.p2p.bootstrap).toEqual(others.map((h) => `/dns4/${h.name}/tcp/${P2P_PORT}/p2p/${h.peerId}`));
    // Each is an address admin_addPeer would accept too.
    expect(config.p2p.bootstrap.map(peerIdOfMultiaddr)).toEqual(others.map((h) => h.peerId));
  });

  it('compose.yaml runs each hospital with its own config, the shared genesis and its own datadir', () => {
    const compose = read('compose.yaml');
    expect(compose).not.toContain('\t'); // YAML forbids tabs for indentation
    expect(compose).toMatch(/^ {4}dockerfile: docker\/Dockerfile$/m);
    expect(compose).toMatch(/^ {2}command: \["start", "--config", "\/config\/medchain.toml"\]$/m);
    expect(compose).toMatch(/^ {2}user: "\$\{MEDCHAIN_UID:-1000\}:\$\{MEDCHAIN_GID:-1000\}"$/m);
    const hostPorts = new Set<string>();
    for (const name of DOCKER_HOSPITALS) {
      const block = serviceBlock(compose, name);
      expect(block, name).toContain('    <<: *medchain-node');
      expect(block, name).toContain(`    hostname: ${name}`);
      const mounts = block.filter((line) => line.startsWith('      - ./')).map((line) => line.slice('      - '.length));
      expect(mounts, name).toEqual([`./${name}.toml:/config/medchain.toml:ro`, './genesis.json:/config/genesis.json:ro', `./data/${name}:/data`]);
      for (const file of mounts.slice(0, 2)) expect(existsSync(join(DOCKER_DIR, file.split(':')[0]!)), file).toBe(true);
      const port = block.find((line) => line.startsWith('      - "127.0.0.1:'));
      const match = /^ {6}- "127\.0\.0\.1:(\d+):(\d+)"$/.exec(port ?? '');
      expect(match, `${name} publishes its RPC port on the host's loopback only`).not.toBeNull();
      expect(Number(match![2])).toBe(RPC_PORT);
      hostPorts.add(match![1]!);
    }
    expect(hostPorts.size).toBe(DOCKER_HOSPITALS.length);
  });

  it('the image: node:24-slim, production dependencies, a non-root user, a datadir volume, and a HEALTHCHECK on /health', () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile).toMatch(/^FROM node:24-slim$/m);
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^VOLUME \["\/data"\]$/m);
    expect(dockerfile).toMatch(new RegExp(`^EXPOSE ${RPC_PORT} ${P2P_PORT}$`, 'm'));
    expect(dockerfile).toMatch(new RegExp(`^ENV HEALTHCHECK_URL=http://127\\.0\\.0\\.1:${RPC_PORT}${HEALTH_PATH}$`, 'm'));
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n\s+CMD \["node", "-e", "fetch\(process\.env\.HEALTHCHECK_URL/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "\/app\/src\/cli\/main\.ts"\]$/m);
    // The dashboards are built in a stage of their own and only their output reaches the runtime image.
    expect(dockerfile).toMatch(/^FROM node:24-slim AS web$/m);
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
    expect(dockerfile).toMatch(/^COPY --from=web \/build\/dist\/web \.\/dist\/web$/m);
    // The user must come before the volume, or the volume is created owned by root.
    expect(dockerfile.indexOf('chown node:node /data')).toBeLessThan(dockerfile.indexOf('VOLUME'));
    // Secrets never enter the build context; setup's output stays out of git.
    const ignore = read('Dockerfile.dockerignore').split('\n');
    expect(ignore).toEqual(expect.arrayContaining(['docker/data', 'docker/.env', '**/node_modules', '.git']));
    expect(read('.gitignore').split('\n')).toEqual(expect.arrayContaining(['data/', '.env']));
  });
});
