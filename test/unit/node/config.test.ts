import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configFromFlags } from '../../../src/cli/nodeFlags.ts';
import { ConfigError, environmentLayer, readConfigFile, resolveConfig } from '../../../src/node/config.ts';

function tomlFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'medchain-config-'));
  const path = join(dir, 'config.toml');
  writeFileSync(path, text);
  return path;
}

describe('node configuration', () => {
  it('layers: defaults < TOML file < environment < flags', async () => {
    const config = tomlFile('[rpc]\nport = 7000\nhost = "127.0.0.2"\n[log]\nlevel = "debug"\n');
    const env = { MEDCHAIN_RPC_PORT: '7100', MEDCHAIN_LOG_LEVEL: 'warn' };
    const resolved = await configFromFlags({ config, 'rpc-port': '7200', datadir: '/tmp/medchain-x' }, '/tmp/default', env);
    expect(resolved.rpc.port).toBe(7200); // flag beats environment and file
    expect(resolved.log.level).toBe('warn'); // environment beats file
    expect(resolved.rpc.host).toBe('127.0.0.2'); // file beats default
    expect(resolved.rpc.maxBodyBytes).toBe(5 * 1024 * 1024); // default
    expect(resolved.datadir).toBe('/tmp/medchain-x');
    expect(resolved.genesis).toBe('/tmp/medchain-x/genesis.json');
  });

  it('refuses unknown settings and bad values, naming the source and the key', async () => {
    await expect(readConfigFile(tomlFile('[rpc]\nprot = 1\n'))).rejects.toThrow(/unknown setting "rpc.prot"/);
    await expect(readConfigFile(tomlFile('port = = 1'))).rejects.toThrow(/is not valid TOML/);
    await expect(readConfigFile('/nonexistent/medchain.toml')).rejects.toThrow(ConfigError);
    const bad = (values: Record<string, unknown>) => () => resolveConfig([{ source: 'command line', values }], '/tmp/d');
    expect(bad({ 'rpc.port': '70000' })).toThrow(/command line: rpc.port must be a port from 0 to 65535/);
    expect(bad({ 'rpc.port': 'eighty' })).toThrow(/rpc.port must be a non-negative integer/);
    expect(bad({ 'log.level': 'loud' })).toThrow(/log.level must be one of/);
    expect(bad({ 'rpc.enabled': 'maybe' })).toThrow(/rpc.enabled must be true or false/);
    expect(bad({ 'mempool.maxTxs': 0 })).toThrow(/mempool.maxTxs must be at least 1/);
    expect(bad({ 'rpc.cors': 5 })).toThrow(/rpc.cors must be a list of strings/);
  });

  it('reads a trusted checkpoint as HEIGHT:HASH and names a malformed one', async () => {
    const hash = 'ab'.repeat(32);
    const config = await configFromFlags({ datadir: mkdtempSync(join(tmpdir(), 'medchain-cfg-')), 'assume-valid': `10000:0x${hash.toUpperCase()}` }, '/unused', {});
    expect(config.sync.assumeValid).toEqual({ height: 10000, hash: new Uint8Array(32).fill(0xab) });
    expect(resolveConfig([], '/tmp/medchain-cfg').sync.assumeValid).toBeUndefined();
    for (const bad of ['10000', `0:${hash}`, `12:${hash.slice(2)}`, `x:${hash}`, `99999999999:${hash}`]) {
      expect(() => resolveConfig([{ source: 'command line', values: { 'sync.assumeValid': bad } }], '/tmp/medchain-cfg')).toThrow(
        /command line: sync.assumeValid must be HEIGHT:HASH/,
      );
    }
  });

  it('reads MEDCHAIN_* variables, ignoring empty ones', () => {
    expect(environmentLayer({ MEDCHAIN_RPC_CORS: 'http://a, http://b', MEDCHAIN_DATADIR: '' })).toEqual({ 'rpc.cors': 'http://a, http://b' });
    const resolved = resolveConfig([{ source: 'environment', values: environmentLayer({ MEDCHAIN_RPC_CORS: 'http://a, http://b' }) }], '/tmp/d');
    expect(resolved.rpc.cors).toEqual(['http://a', 'http://b']);
  });
});
