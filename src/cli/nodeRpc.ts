import { MedchainRpc, RpcClientError, RpcTransportError } from '../client/rpcClient.ts';
import { DEFAULT_RPC_PORT } from '../node/config.ts';
import { UsageError } from './command.ts';

/** The typed RPC client for `--rpc <url>` (default the local node); a URL without `/rpc` gets it appended. */
export function rpcOf(url: string | undefined): MedchainRpc {
  const target = url ?? `http://127.0.0.1:${DEFAULT_RPC_PORT}/rpc`;
  if (!/^https?:\/\//.test(target)) throw new UsageError(`--rpc must be an http(s) URL, got "${target}"`);
  return new MedchainRpc({ url: new URL(target).pathname.endsWith('/rpc') ? target : target.replace(/\/?$/, '/rpc') });
}

/** Turns the node's refusals, and a node that cannot be reached, into one-line CLI errors (exit 1). */
export async function refusing<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof RpcClientError) throw new UsageError(`the node refused: ${error.message} (${error.reason})`, 1);
    if (error instanceof RpcTransportError) throw new UsageError(`cannot reach the node: ${error.message}`, 1);
    throw error;
  }
}
