import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/** Structured logs on stdout: pretty on a terminal, JSON lines otherwise; synchronous so nothing is lost on exit. */
export function createLogger(options: { level: string; format: 'auto' | 'json' | 'pretty' }): Logger {
  const usePretty = options.format === 'pretty' || (options.format === 'auto' && process.stdout.isTTY === true);
  const base = { level: options.level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime };
  if (usePretty) {
    return pino(base, pretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
  }
  return pino(base, pino.destination({ dest: 1, sync: true }));
}
