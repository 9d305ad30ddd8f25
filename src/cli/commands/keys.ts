import { resolve } from 'node:path';
import { toHex } from '../../codec/bytes.ts';
import { fingerprint } from '../../crypto/ed25519.ts';
import { createKey, describeKey, keysDir, listKeys, loadKey } from '../../keys/keystore.ts';
import { helpText, parseFlags } from '../args.ts';
import { UsageError, type Command } from '../command.ts';
import { DEFAULT_DATADIR } from './start.ts';

const examples = [
  'medchain keys new alice --datadir ./node1     # create a key (file mode 0600)',
  'medchain keys list --datadir ./node1',
  'medchain keys show alice --datadir ./node1    # public key only',
  'medchain keys show alice --private            # also the secret seed: keep it off screens and logs',
];

export const keysCommand: Command = {
  name: 'keys',
  summary: 'Create, list and show Ed25519 keys kept in <datadir>/keys.',
  usage: 'medchain keys new|show|list [name] [--datadir <dir>] [--private]',
  examples,
  async run(args, io) {
    const { values, positionals } = parseFlags(args, { datadir: { type: 'string' }, private: { type: 'boolean' } }, true);
    if (values.help || positionals.length === 0) {
      io.out(helpText(this.usage, this.summary, [['--datadir <dir>', `default ${DEFAULT_DATADIR}`], ['--private', 'show: also print the secret seed']], examples));
      return values.help ? 0 : 2;
    }
    const datadir = resolve(values.datadir ?? DEFAULT_DATADIR);
    const [action, name, ...rest] = positionals;
    if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
    switch (action) {
      case 'new': {
        if (name === undefined) throw new UsageError('keys new needs a name, e.g. medchain keys new alice');
        const key = await createKey(datadir, name);
        io.out(describeKey(key));
        io.err(`saved to ${keysDir(datadir)}/${name}.json (mode 0600). Back it up: a lost key cannot be recovered.`);
        return 0;
      }
      case 'show': {
        if (name === undefined) throw new UsageError('keys show needs a name');
        const key = await loadKey(datadir, name);
        io.out(`name:        ${key.name}`);
        io.out(`public key:  ${toHex(key.keyPair.publicKey)}`);
        io.out(`fingerprint: ${fingerprint(key.keyPair.publicKey)}`);
        if (values.private) io.out(`secret seed: ${toHex(key.keyPair.seed)}`);
        return 0;
      }
      case 'list': {
        const names = await listKeys(datadir);
        if (names.length === 0) io.err(`no keys in ${keysDir(datadir)}`);
        for (const n of names) io.out(describeKey(await loadKey(datadir, n)));
        return 0;
      }
      default:
        throw new UsageError(`unknown keys action "${action}" (new, show or list)`);
    }
  },
};
