import { helpText, parseFlags } from '../args.ts';
import type { Command } from '../command.ts';
import { refusing, rpcOf } from '../nodeRpc.ts';
import { DEFAULT_RPC_PORT } from '../../node/config.ts';

const examples = ['medchain status                                  # the node at http://127.0.0.1:8545', 'medchain status --rpc http://127.0.0.1:9545/rpc --json'];

export const statusCommand: Command = {
  name: 'status',
  summary: "Show a running node's chain, head and mempool over JSON-RPC.",
  usage: 'medchain status [--rpc <url>] [--json]',
  examples,
  async run(args, io) {
    const { values } = parseFlags(args, { rpc: { type: 'string' }, json: { type: 'boolean' } });
    if (values.help) {
      io.out(helpText(this.usage, this.summary, [['--rpc <url>', `node RPC URL (default http://127.0.0.1:${DEFAULT_RPC_PORT}/rpc)`], ['--json', 'print node_info as JSON']], examples));
      return 0;
    }
    const rpc = rpcOf(values.rpc);
    const info: Record<string, unknown> = { ...(await refusing(() => rpc.nodeInfo())) };
    if (values.json) {
      io.out(JSON.stringify(info, null, 2));
      return 0;
    }
    for (const [key, value] of Object.entries(info)) io.out(`${key.padEnd(13)} ${String(value)}`);
    return 0;
  },
};
