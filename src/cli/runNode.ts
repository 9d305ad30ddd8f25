import type { NodeConfig } from '../node/config.ts';
import { MedchainNode } from '../node/node.ts';
import { createLogger, type Logger } from '../util/logger.ts';

/** Starts a node and keeps it running until `signal` aborts, then stops it in order. */
export async function runNode(
  config: NodeConfig,
  signal: AbortSignal | undefined,
  afterStart?: (node: MedchainNode, logger: Logger) => Promise<void>,
): Promise<number> {
  const logger = createLogger(config.log);
  const node = new MedchainNode(config, { logger });
  await node.start();
  try {
    if (afterStart) await afterStart(node, logger);
    await new Promise<void>((resolve) => {
      if (signal === undefined || signal.aborted) return resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    logger.info('shutting down (press Ctrl+C again to force)');
  } finally {
    await node.stop();
  }
  logger.info('stopped cleanly');
  return 0;
}
