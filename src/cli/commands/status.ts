import { helpText, parseFlags } from '../args.ts';
import { UsageError, type Command } from '../command.ts';
import { DEFAULT_RPC_PORT } from '../../node/config.ts';

const examples = ['medchain status                                  # the node at http://127.0.0.1:8545', 'medchain status --rpc http://127.0.0.1:9545/rpc --json'];

/** Calls one JSON-RPC method; throws with the node's error message. */
async function call(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }), signal: AbortSignal.timeout(5000) });
  } catch (error) {
    throw new UsageError(`cannot reach a node at ${url}: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}`, 1);
  }
  const body = (await response.json()) as { result?: unknown; error?: { message: string; data?: { reason?: string } } };
  if (body.error) throw new UsageError(`${method} failed: ${body.error.message} (${body.error.data?.reason ?? 'no reason'})`, 1);
  return body.result;
}

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
    let url = values.rpc ?? `http://127.0.0.1:${DEFAULT_RPC_PORT}/rpc`;
    if (!/^https?:\/\//.test(url)) throw new UsageError(`--rpc must be an http(s) URL, got "${url}"`);
    if (!new URL(url).pathname.endsWith('/rpc')) url = url.replace(/\/?$/, '/rpc');
    const info = (await call(url, 'node_info')) as Record<string, unknown>;
    if (values.json) {
      io.out(JSON.stringify(info, null, 2));
      return 0;
    }
    for (const [key, value] of Object.entries(info)) io.out(`${key.padEnd(13)} ${String(value)}`);
    return 0;
  },
};
