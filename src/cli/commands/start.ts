import { helpText, parseFlags } from '../args.ts';
import type { Command } from '../command.ts';
import { configFromFlags, NODE_FLAG_HELP, NODE_FLAG_OPTIONS } from '../nodeFlags.ts';
import { runNode } from '../runNode.ts';

export const DEFAULT_DATADIR = './medchain-data';

const examples = [
  'medchain start --datadir /var/lib/medchain        # run a node initialised with `medchain init`',
  'MEDCHAIN_RPC_PORT=9545 medchain start --log-format json   # settings from the environment',
];

export const startCommand: Command = {
  name: 'start',
  summary: 'Run a node: import and produce blocks, serve JSON-RPC.',
  usage: 'medchain start [options]',
  examples,
  async run(args, io, signal) {
    const { values } = parseFlags(args, NODE_FLAG_OPTIONS);
    if (values.help) {
      io.out(helpText(this.usage, this.summary + ' Settings: flags > MEDCHAIN_* environment > config file > defaults.', NODE_FLAG_HELP, examples));
      return 0;
    }
    return runNode(await configFromFlags(values, DEFAULT_DATADIR), signal);
  },
};
