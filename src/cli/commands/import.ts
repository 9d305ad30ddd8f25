import { open, type FileHandle } from 'node:fs/promises';
import { resolve } from 'node:path';
import { bytesEqual, readU32be, toHex } from '../../codec/bytes.ts';
import { readGenesisFile } from '../../node/node.ts';
import { openChain } from '../../node/openChain.ts';
import { buildGenesis } from '../../state/genesis.ts';
import { BlockError, BlockErrorCode } from '../../state/errors.ts';
import { MAX_BLOCK_BYTES } from '../../types/primitives.ts';
import { createLogger } from '../../util/logger.ts';
import { helpText, parseFlags } from '../args.ts';
import { UsageError, type Command } from '../command.ts';
import { configFromFlags } from '../nodeFlags.ts';
import { decodeExportHeader, describeRange, EXPORT_HEADER_BYTES, FRAME_LENGTH_BYTES, type ExportHeader } from './export.ts';
import { DEFAULT_DATADIR } from './start.ts';

const examples = [
  'medchain import --datadir ./node2 chain.blocks   # validate and import every block; known ones are skipped',
  'medchain import --datadir ./node2 --genesis net.json chain.blocks',
];

/** Print a progress line at most this often. */
const PROGRESS_EVERY_MS = 2000;

/** A block export that cannot be read as one; the message says where and what. */
class ExportFileError extends UsageError {
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`, 1);
  }
}

/** Reads exactly `length` bytes at `position`; fewer only at the end of the file. */
async function readAt(file: FileHandle, position: number, length: number): Promise<Uint8Array> {
  const buffer = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await file.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled === length ? buffer : buffer.subarray(0, filled);
}

/** Where each frame's block starts and how long it is. */
interface Frame {
  readonly offset: number;
  readonly length: number;
}

/**
 * Walks the frame lengths before anything is imported, so a cut-short, padded or garbled file is refused
 * before the datadir is touched. Reads 4 bytes per block, not the blocks.
 */
async function scanFrames(file: FileHandle, name: string, header: ExportHeader, size: number): Promise<Frame[]> {
  const frames: Frame[] = [];
  let at = EXPORT_HEADER_BYTES;
  for (let i = 0; i < header.count; i++) {
    const height = header.firstHeight + i;
    const prefix = await readAt(file, at, FRAME_LENGTH_BYTES);
    if (prefix.length < FRAME_LENGTH_BYTES) {
      throw new ExportFileError(name, `truncated: the file ends at byte ${size} where block ${i + 1} of ${header.count} (height ${height}) should start`);
    }
    const length = readU32be(prefix);
    if (length === 0 || length > MAX_BLOCK_BYTES) {
      throw new ExportFileError(name, `block ${i + 1} of ${header.count} (height ${height}) at byte ${at} declares ${length} bytes; a block is 1 to ${MAX_BLOCK_BYTES} bytes`);
    }
    at += FRAME_LENGTH_BYTES;
    if (at + length > size) {
      throw new ExportFileError(name, `truncated: block ${i + 1} of ${header.count} (height ${height}) needs ${length} bytes but only ${size - at} remain`);
    }
    frames.push({ offset: at, length });
    at += length;
  }
  if (at !== size) throw new ExportFileError(name, `${size - at} unexpected bytes follow the last of its ${header.count} blocks`);
  return frames;
}

export const importCommand: Command = {
  name: 'import',
  summary: 'Validate and import blocks written by `medchain export` into a datadir (the node must be stopped).',
  usage: 'medchain import [--datadir <dir>] [--genesis <file>] <file>',
  examples,
  async run(args, io, signal) {
    const { values, positionals } = parseFlags(
      args,
      {
        datadir: { type: 'string' },
        config: { type: 'string' },
        genesis: { type: 'string' },
        'log-level': { type: 'string' },
        'log-format': { type: 'string' },
      },
      true,
    );
    if (values.help) {
      io.out(
        helpText(this.usage, this.summary + ' Every block goes through full validation; the first invalid one stops the import.', [
          ['--datadir <dir>', `the datadir to import into (default ${DEFAULT_DATADIR}); created if missing`],
          ['--config <file>', 'TOML config file (default <datadir>/config.toml if present)'],
          ['--genesis <file>', 'genesis file (default <datadir>/genesis.json)'],
          ['--log-level <level>', 'fatal, error, warn, info, debug, trace or silent'],
          ['--log-format <fmt>', 'auto (pretty on a terminal), json or pretty'],
        ], examples),
      );
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'import needs the file to read, e.g. medchain import chain.blocks' : `import reads one file, got ${positionals.length}`);
    const name = resolve(positionals[0]!);
    const config = await configFromFlags(values, DEFAULT_DATADIR);

    let file: FileHandle;
    try {
      file = await open(name, 'r');
    } catch (error) {
      throw new UsageError(`cannot read ${name}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 1);
    }
    try {
      const size = (await file.stat()).size;
      const header = decodeExportHeader(await readAt(file, 0, EXPORT_HEADER_BYTES));
      if (typeof header === 'string') throw new ExportFileError(name, header);
      const frames = await scanFrames(file, name, header, size);
      // Checked against the genesis file before the datadir is opened, so a wrong file leaves no trace.
      const genesis = await readGenesisFile(config.genesis);
      const genesisHash = buildGenesis(genesis).block.hash;
      if (!bytesEqual(header.genesisHash, genesisHash)) {
        throw new ExportFileError(
          name,
          `it holds blocks of the chain with genesis ${toHex(header.genesisHash)}, but ${config.genesis} gives genesis ${toHex(genesisHash)}; ` +
            'import it into a datadir of that chain (medchain init --genesis <its genesis file>)',
        );
      }

      const logger = createLogger(config.log);
      const { chain, close } = await openChain(config.datadir, genesis, { logger });
      try {
        const last = header.firstHeight + header.count - 1;
        io.err(`importing ${describeRange(header.firstHeight, header.count)} from ${name} into ${config.datadir}; head at height ${chain.head.header.height}`);
        let imported = 0;
        let known = 0;
        const startedAt = Date.now();
        let reportedAt = startedAt;
        // Each block's import is awaited once the next one is read and queued behind it, so the chain decodes
        // the next block and checks its signatures while this one executes and commits.
        const settle = async ({ i, imported: importing }: { i: number; imported: Promise<unknown> }): Promise<void> => {
          try {
            await importing;
            imported++;
          } catch (error) {
            if (!(error instanceof BlockError)) throw error;
            if (error.code !== BlockErrorCode.AlreadyKnown) {
              throw new UsageError(
                `block ${i + 1} of ${header.count} (height ${header.firstHeight + i}) is invalid: ${error.code}: ${error.message}. ` +
                  `Stopped there: ${imported} blocks imported, head at height ${chain.head.header.height}.`,
                1,
              );
            }
            known++;
          }
          const now = Date.now();
          if (now - reportedAt >= PROGRESS_EVERY_MS) {
            reportedAt = now;
            const rate = Math.round(((imported + known) * 1000) / Math.max(1, now - startedAt));
            io.err(`  height ${header.firstHeight + i} of ${last}: ${imported} imported, ${known} already known (${rate} blocks/s)`);
          }
        };
        let pending: { i: number; imported: Promise<unknown> } | undefined;
        try {
          for (let i = 0; i < frames.length; i++) {
            if (signal?.aborted) {
              if (pending !== undefined) await settle(pending);
              pending = undefined;
              io.err(`interrupted: head at height ${chain.head.header.height}; run the same command again to continue`);
              return 130;
            }
            const frame = frames[i]!;
            const bytes = await readAt(file, frame.offset, frame.length);
            if (bytes.length !== frame.length) throw new ExportFileError(name, `the file shrank while being read (block at height ${header.firstHeight + i})`);
            const next = { i, imported: chain.importBlock(bytes) };
            // Awaited in turn below; a failure of the one queued behind a failing block must not go unhandled.
            next.imported.catch(() => undefined);
            if (pending !== undefined) await settle(pending);
            pending = next;
          }
          if (pending !== undefined) await settle(pending);
          pending = undefined;
        } finally {
          // Stopping early (a bad block, an error): let the queued import finish before the chain closes.
          if (pending !== undefined) await pending.imported.catch(() => undefined);
        }
        const head = chain.head;
        io.out(`imported ${imported} blocks (${known} already known) in ${((Date.now() - startedAt) / 1000).toFixed(1)} s; head at height ${head.header.height} (${toHex(head.hash)})`);
        return 0;
      } finally {
        await close();
      }
    } finally {
      await file.close();
    }
  },
};
