import { open, rename, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { bytesEqual, concatBytes, readU32be, toHex, u32be, utf8 } from '../../codec/bytes.ts';
import { NoChainDatabaseError, openChainStore } from '../../node/openChain.ts';
import type { ChainStore } from '../../store/interface.ts';
import { HASH_LENGTH } from '../../types/primitives.ts';
import { helpText, parseFlags } from '../args.ts';
import { UsageError, type Command } from '../command.ts';
import { configFromFlags } from '../nodeFlags.ts';
import { DEFAULT_DATADIR } from './start.ts';

/**
 * The block export file, version 1. Everything big-endian:
 *   header: magic "medchain-blocks\n" (16) | version u32 | genesis hash (32) | first height u32 | block count u32
 *   then `count` frames: length u32 | block wire bytes (as stored and as gossiped)
 * The count makes a file cut at a frame boundary detectable; the genesis hash keeps blocks out of the wrong chain.
 */
export const EXPORT_MAGIC: Uint8Array = utf8('medchain-blocks\n');
export const EXPORT_FORMAT_VERSION = 1;
export const EXPORT_HEADER_BYTES = EXPORT_MAGIC.length + 4 + HASH_LENGTH + 4 + 4;
export const FRAME_LENGTH_BYTES = 4;

export interface ExportHeader {
  readonly version: number;
  readonly genesisHash: Uint8Array;
  readonly firstHeight: number;
  readonly count: number;
}

/** The 60-byte file header. */
export function encodeExportHeader(header: ExportHeader): Uint8Array {
  return concatBytes(EXPORT_MAGIC, u32be(header.version), header.genesisHash, u32be(header.firstHeight), u32be(header.count));
}

/** Parses the file header; returns a sentence saying what is wrong instead of throwing. */
export function decodeExportHeader(bytes: Uint8Array): ExportHeader | string {
  if (bytes.length < EXPORT_HEADER_BYTES) {
    if (bytes.length < EXPORT_MAGIC.length || !bytesEqual(bytes.subarray(0, EXPORT_MAGIC.length), EXPORT_MAGIC)) return 'it is not a medchain block export';
    return `its header is cut short (${bytes.length} of ${EXPORT_HEADER_BYTES} bytes)`;
  }
  if (!bytesEqual(bytes.subarray(0, EXPORT_MAGIC.length), EXPORT_MAGIC)) return 'it is not a medchain block export (no "medchain-blocks" header)';
  let at = EXPORT_MAGIC.length;
  const version = readU32be(bytes, at);
  at += 4;
  if (version !== EXPORT_FORMAT_VERSION) return `it has export format version ${version}; this medchain reads version ${EXPORT_FORMAT_VERSION}`;
  const genesisHash = bytes.slice(at, at + HASH_LENGTH);
  at += HASH_LENGTH;
  const firstHeight = readU32be(bytes, at);
  const count = readU32be(bytes, at + 4);
  if (firstHeight < 1) return 'its first block height is 0; exports start at height 1 (genesis comes from the genesis file)';
  if (count > 0 && firstHeight + count - 1 > 0xffff_ffff) return 'its block range goes past the largest height';
  return { version, genesisHash, firstHeight, count };
}

const examples = [
  'medchain export --datadir ./node1 --out chain.blocks             # every block from 1 to the head',
  'medchain export --datadir ./node1 --out recent.blocks --from 1000  # blocks 1000 to the head',
];

/** Flush the write buffer at this size, so a large export never sits in memory. */
const WRITE_CHUNK_BYTES = 1 << 20;

export const exportCommand: Command = {
  name: 'export',
  summary: 'Write the canonical blocks of a stopped node to a file that `medchain import` reads.',
  usage: 'medchain export --out <file> [--datadir <dir>] [--from <height>] [--to <height>] [--force]',
  examples,
  async run(args, io) {
    const { values, positionals } = parseFlags(
      args,
      { datadir: { type: 'string' }, config: { type: 'string' }, out: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, force: { type: 'boolean' } },
      true,
    );
    if (values.help) {
      io.out(
        helpText(this.usage, this.summary, [
          ['--datadir <dir>', `the node's datadir (default ${DEFAULT_DATADIR}); the node must not be running`],
          ['--config <file>', 'TOML config file (default <datadir>/config.toml if present)'],
          ['--out <file>', 'where to write the blocks'],
          ['--from <height>', 'first block (default 1)'],
          ['--to <height>', 'last block (default the head)'],
          ['--force', 'overwrite --out if it exists'],
        ], examples),
      );
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected arguments: ${positionals.join(' ')}`);
    if (values.out === undefined) throw new UsageError('export needs --out <file>');
    const from = values.from === undefined ? 1 : parseHeight(values.from, '--from');
    if (from < 1) throw new UsageError('--from must be at least 1: genesis is not exported, it comes from the genesis file');
    const out = resolve(values.out);
    if (existsSync(out) && values.force !== true) throw new UsageError(`${out} exists; remove it, choose another --out or pass --force`, 1);

    const config = await configFromFlags({ datadir: values.datadir, config: values.config }, DEFAULT_DATADIR);
    let store: ChainStore;
    try {
      store = await openChainStore(config.datadir);
    } catch (error) {
      if (error instanceof NoChainDatabaseError) throw new UsageError(error.message, 1);
      throw error;
    }
    const partial = `${out}.partial`;
    try {
      const genesisHash = await store.getMeta('genesisHash');
      const head = await store.getHead();
      if (genesisHash === undefined || head === undefined) throw new UsageError(`${config.datadir} has no chain yet (no genesis block); nothing to export`, 1);
      const to = values.to === undefined ? head.height : parseHeight(values.to, '--to');
      if (to > head.height) throw new UsageError(`--to ${to} is above the head (height ${head.height})`, 1);
      if (from > to + 1) throw new UsageError(`--from ${from} is after --to ${to}`, 1);
      const count = to - from + 1;

      // Written beside the target and renamed at the end, so a cut-short export never has the final name.
      const file = await open(partial, 'w', 0o644);
      try {
        let buffered: Uint8Array[] = [encodeExportHeader({ version: EXPORT_FORMAT_VERSION, genesisHash, firstHeight: from, count })];
        let bufferedBytes = EXPORT_HEADER_BYTES;
        let written = 0;
        for (let height = from; height <= to; height++) {
          const hash = await store.getCanonicalHash(height);
          const bytes = hash === undefined ? undefined : await store.getBlock(hash);
          if (bytes === undefined) throw new Error(`the datadir has no canonical block at height ${height} below its head ${head.height}; it is damaged`);
          buffered.push(u32be(bytes.length), bytes);
          bufferedBytes += FRAME_LENGTH_BYTES + bytes.length;
          written += FRAME_LENGTH_BYTES + bytes.length;
          if (bufferedBytes >= WRITE_CHUNK_BYTES) {
            await file.write(concatBytes(...buffered));
            buffered = [];
            bufferedBytes = 0;
          }
        }
        if (bufferedBytes > 0) await file.write(concatBytes(...buffered));
        await file.sync();
        io.err(`wrote ${describeRange(from, count)} (${written} bytes of blocks) of the chain with genesis ${toHex(genesisHash)}`);
      } finally {
        await file.close();
      }
      await rename(partial, out);
      io.out(`exported ${describeRange(from, count)} to ${out}`);
      return 0;
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    } finally {
      await store.stop();
    }
  },
};

/** "blocks 5..9", or "no blocks" for an empty range. */
export function describeRange(first: number, count: number): string {
  return count === 0 ? 'no blocks' : count === 1 ? `block ${first}` : `blocks ${first}..${first + count - 1}`;
}

/** A block height given on the command line. */
export function parseHeight(text: string, flag: string): number {
  if (!/^[0-9]{1,10}$/.test(text) || Number(text) > 0xffff_ffff) throw new UsageError(`${flag} must be a block height (0 to 4294967295), got "${text}"`);
  return Number(text);
}
