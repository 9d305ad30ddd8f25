import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { demoKeys, devGenesis } from '../../../src/cli/commands/dev.ts';
import { readConfigFile, resolveConfig } from '../../../src/node/config.ts';
import { parseGenesis } from '../../../src/state/genesis.ts';

describe('files in config/', () => {
  it.each(['pos', 'pow'] as const)('genesis.dev-%s.json is what `medchain dev` means by its demo chain, and selects the engine', (engine) => {
    const file = JSON.parse(readFileSync(new URL(`../../../config/genesis.dev-${engine}.json`, import.meta.url), 'utf8'));
    expect(file).toEqual(devGenesis(engine, demoKeys()));
    expect(parseGenesis(file).consensus.engine).toBe(engine);
  });

  it('medchain.example.toml names only known settings and its values are the defaults', async () => {
    const layer = await readConfigFile(new URL('../../../config/medchain.example.toml', import.meta.url).pathname);
    const fromFile = resolveConfig([{ source: 'example', values: layer }], '/tmp/x');
    const defaults = resolveConfig([], '/tmp/x');
    expect(fromFile).toEqual(defaults);
  });
});
