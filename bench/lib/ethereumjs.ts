/**
 * The ethereumjs comparison: `@ethereumjs/vm` v10 `runBlock` on a block of N signed value transfers from N
 * funded accounts (as our blocks come from N keys), cold: the block is decoded from its RLP bytes for every
 * run (so no sender is cached), then runBlock validates it (transaction trie, every signature by ecrecover,
 * execution, receipts, gas, state root against the header). Its state lives in memory (no disk).
 *
 * Two variants: as installed (ecrecover in JavaScript, @noble/curves), and with libsecp256k1's native
 * ecdsaRecover (the `secp256k1` package's shipped binary) plugged into Common's `customCrypto.ecrecover`.
 *
 * ethereumjs is a devDependency: the modules are loaded on demand, and a missing one is reported, not fatal.
 */
import { sha256 } from '../../src/crypto/hash.ts';
import { u32be } from '../../src/codec/bytes.ts';

export interface EthereumjsResult {
  readonly variant: 'as installed' | 'native ecrecover';
  readonly txsPerBlock: number;
  readonly blockMs: readonly number[];
}

type Ecrecover = (msgHash: Uint8Array, v: bigint, r: Uint8Array, s: Uint8Array, chainId?: bigint) => Uint8Array;

interface Secp256k1Native {
  ecdsaRecover(signature: Uint8Array, recid: number, message: Uint8Array, compressed?: boolean): Uint8Array;
}

/** libsecp256k1 (native) in ethereumjs's ecrecover shape: the 64-byte public key without its 0x04 prefix. */
export async function nativeEcrecover(): Promise<Ecrecover> {
  // CommonJS without type declarations: loaded through require.
  const { createRequire } = await import('node:module');
  const secp = createRequire(import.meta.url)('secp256k1') as Secp256k1Native;
  return (msgHash, v, r, s, chainId) => {
    const recovery = v === 0n || v === 1n ? v : chainId === undefined ? v - 27n : v - (chainId * 2n + 35n);
    if (recovery !== 0n && recovery !== 1n) throw new Error('invalid signature v value');
    const signature = new Uint8Array(64);
    signature.set(r, 32 - r.length);
    signature.set(s, 64 - s.length);
    return secp.ecdsaRecover(signature, Number(recovery), msgHash, false).slice(1);
  };
}

/** Whether the native recover is the libsecp256k1 binary (not the package's JavaScript fallback). */
export async function nativeSecp256k1Loaded(): Promise<boolean> {
  try {
    const { createRequire } = await import('node:module');
    createRequire(import.meta.url)('secp256k1/bindings.js');
    return true;
  } catch {
    return false;
  }
}

/** Builds one block of `txs` transfers and times `rounds` cold runBlock calls on it. */
export async function measureEthereumjs(options: { txs: number; seed: number; rounds: number; native: boolean }): Promise<EthereumjsResult> {
  const [{ Common, Hardfork, Mainnet }, { createBlock, createBlockFromRLP, genTransactionsTrieRoot }, { createFeeMarket1559Tx }, util, { createVM, runBlock }] =
    await Promise.all([import('@ethereumjs/common'), import('@ethereumjs/block'), import('@ethereumjs/tx'), import('@ethereumjs/util'), import('@ethereumjs/vm')]);
  const customCrypto = options.native ? { ecrecover: await nativeEcrecover() } : {};
  const common = new Common({ chain: Mainnet, hardfork: Hardfork.Shanghai, customCrypto });
  const keys = Array.from({ length: options.txs }, (_, i) => sha256(new Uint8Array([...u32be(options.seed), ...u32be(i), 0x45])));
  const senders = keys.map((k) => new util.Address(util.privateToAddress(k)));
  const recipient = (i: number): InstanceType<typeof util.Address> => new util.Address(sha256(u32be(i)).subarray(0, 20));
  const baseFeePerGas = 7n;
  const gasLimit = 21_000n * BigInt(options.txs) + 1_000_000n;

  const freshVm = async () => {
    const vm = await createVM({ common });
    for (const address of senders) await vm.stateManager.putAccount(address, util.createAccount({ nonce: 0n, balance: 10n ** 18n }));
    await vm.stateManager.checkpoint();
    await vm.stateManager.commit();
    return vm;
  };

  // Produce the block once (not timed): sign, run with generate to learn the roots, then seal the header.
  const txs = keys.map((key, i) =>
    createFeeMarket1559Tx({ chainId: 1n, nonce: 0n, maxFeePerGas: 1_000_000_000n, maxPriorityFeePerGas: 1n, gasLimit: 21_000n, to: recipient(i), value: 1n }, { common }).sign(key),
  );
  const producer = await freshVm();
  const parentStateRoot = await producer.stateManager.getStateRoot();
  const header = { number: 1n, gasLimit, timestamp: 1_700_000_000n, baseFeePerGas, coinbase: recipient(0xffff_ffff), withdrawalsRoot: util.KECCAK256_RLP, transactionsTrie: await genTransactionsTrieRoot(txs) };
  const draft = createBlock({ header, transactions: txs, withdrawals: [] }, { common });
  const generated = await runBlock(producer, { block: draft, root: parentStateRoot, generate: true, skipHeaderValidation: true, skipHardForkValidation: true });
  const sealed = createBlock(
    {
      header: {
        ...header,
        stateRoot: generated.stateRoot,
        receiptTrie: generated.receiptsRoot,
        gasUsed: generated.gasUsed,
        logsBloom: generated.logsBloom,
      },
      transactions: txs,
      withdrawals: [],
    },
    { common },
  );
  const rlp = sealed.serialize();

  const blockMs: number[] = [];
  for (let r = 0; r < options.rounds; r++) {
    const vm = await freshVm();
    const start = performance.now();
    const block = createBlockFromRLP(rlp, { common });
    await runBlock(vm, { block, root: parentStateRoot, skipHeaderValidation: true, skipHardForkValidation: true });
    blockMs.push(performance.now() - start);
  }
  return { variant: options.native ? 'native ecrecover' : 'as installed', txsPerBlock: options.txs, blockMs };
}
