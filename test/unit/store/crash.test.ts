import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesEqual, readU32be } from '../../../src/codec/bytes.ts';
import { createLevelChainStore } from '../../../src/store/chainStore.ts';
import {
  blockBytesOf,
  blockHashOf,
  expectedBatchPerKey,
  KEY_SPACE,
  stateKeyOf,
  stateValue,
  txIdOf,
} from '../../fixtures/store-crash-scheme.ts';
import { spawnFixture } from './childProcess.ts';
import { mulberry32 } from '../../../bench/lib/random.ts';

const ITERATIONS = 20;
const SEED = 0x6d656463;


const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Opens the datadir the way a restarting node would and checks it holds exactly batches 0..head. */
async function checkConsistent(dir: string, lastAcknowledged: number): Promise<number> {
  const store = createLevelChainStore(dir);
  await store.start();
  try {
    const head = await store.getHead();
    const h = head === undefined ? -1 : head.height;
    // Durability: a batch whose write() resolved before the kill survives it.
    expect(h).toBeGreaterThanOrEqual(lastAcknowledged);
    if (head !== undefined) {
      expect(head.hash).toEqual(blockHashOf(h));
      expect(await store.getCanonicalHash(h)).toEqual(blockHashOf(h));
      expect(await store.getBlock(blockHashOf(h))).toEqual(blockBytesOf(h));
      expect((await store.getBlockMeta(blockHashOf(h)))?.score).toBe(BigInt(h) * 1000n);
      expect(await store.getTxLocation(txIdOf(h))).toEqual({ blockHash: blockHashOf(h), height: h, index: 0 });
    }
    // Nothing of the batch after the head: not its block, index entries or state.
    expect(await store.getCanonicalHash(h + 1)).toBeUndefined();
    expect(await store.getBlock(blockHashOf(h + 1))).toBeUndefined();
    expect(await store.getTxLocation(txIdOf(h + 1))).toBeUndefined();

    const expected = expectedBatchPerKey(h);
    let seen = 0;
    for await (const { key, value } of store.readState()) {
      const k = (key[0]! << 8) | key[1]!;
      const batch = readU32be(value);
      expect({ k, batch }).toEqual({ k, batch: expected.get(k) });
      // The whole value, not just its batch number: a torn value would differ in the filler.
      if (!bytesEqual(value, stateValue(batch))) expect.fail(`state key ${k} holds a damaged value of batch ${batch}`);
      expect(key).toEqual(stateKeyOf(k));
      seen++;
    }
    expect(seen).toBe(expected.size);
    expect(seen).toBeLessThanOrEqual(KEY_SPACE);
    return h;
  } finally {
    await store.stop();
  }
}

describe('crash safety', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'medchain-crash-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it(`restarts at the last committed batch with nothing half-written after ${ITERATIONS} SIGKILLs`, async () => {
    const random = mulberry32(SEED);
    const started = performance.now();
    let previousHead = -1;
    let killedWhileOpening = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const writer = spawnFixture('store-crash-writer.ts', [dir]);
      let acknowledged = previousHead;
      writer.process.stdout?.on('data', () => {
        for (let j = writer.lines.length - 1; j >= 0; j--) {
          const match = /^committed (\d+)$/.exec(writer.lines[j]!);
          if (match !== null) {
            acknowledged = Math.max(acknowledged, Number(match[1]));
            break;
          }
        }
      });
      if (i % 5 === 4) {
        // Every fifth kill lands while the child may still be starting, opening or recovering the log.
        await sleep(random() * 120);
        killedWhileOpening++;
      } else {
        const ready = await writer.waitForLine((line) => line.startsWith('ready '));
        expect(Number(ready.slice('ready '.length))).toBe(previousHead + 1);
        await sleep(random() * 250);
      }
      writer.process.kill('SIGKILL');
      const { code, signal, stderr } = await writer.exited;
      // The writer must die by our hand, not by an error of its own.
      expect({ code, signal, stderr }).toEqual({ code: null, signal: 'SIGKILL', stderr: '' });
      const head = await checkConsistent(dir, acknowledged);
      expect(head).toBeGreaterThanOrEqual(previousHead);
      previousHead = head;
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `crash test: ${ITERATIONS} kills (${killedWhileOpening} aimed at startup), ${previousHead + 1} batches committed, ${seconds.toFixed(1)} s`,
    );
    // Some kills must have interrupted real work, or the test proves nothing.
    expect(previousHead).toBeGreaterThan(ITERATIONS);
  }, 60_000);
});
