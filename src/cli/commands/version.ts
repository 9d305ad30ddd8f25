import type { Command } from '../command.ts';
import { MEDCHAIN_VERSION } from '../../node/version.ts';

export const versionCommand: Command = {
  name: 'version',
  summary: 'Print the medchain and Node.js versions.',
  usage: 'medchain version',
  examples: ['medchain version'],
  async run(_args, io) {
    io.out(`medchain ${MEDCHAIN_VERSION} (node ${process.version})`);
    return 0;
  },
};
