import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Chain, type ImportOptions } from '../chain/chain.ts';
import { Mempool } from '../chain/mempool.ts';
import { BlockProducer } from '../chain/producer.ts';
import { PosSealer, PowSealer, type Sealer } from '../chain/sealer.ts';
import { SignatureCache } from '../chain/signatureVerifier.ts';
import { WorkerSignatureVerifier } from '../chain/verifyPool.ts';
import { bytesEqual, toHex } from '../codec/bytes.ts';
import { createEngine } from '../consensus/index.ts';
import { loadKey } from '../keys/keystore.ts';
import { createDispatcher } from '../rpc/dispatcher.ts';
import { RpcHttpServer } from '../rpc/httpServer.ts';
import { createNodeMethods } from '../rpc/methods/index.ts';
import { DEFAULT_WEB_ROOT, staticFileRoutes } from '../rpc/staticFiles.ts';
import { existsSync } from 'node:fs';
import { ChainSubscriptions } from '../rpc/subscriptions.ts';
import { RpcWsServer } from '../rpc/wsServer.ts';
import { RecordQueries } from '../emr/queries.ts';
import { RecordService } from '../emr/recordService.ts';
import { GenesisError, parseGenesis } from '../state/genesis.ts';
import { createLevelChainStore } from '../store/index.ts';
import type { ChainStore } from '../store/interface.ts';
import type { GenesisSpec } from '../types/genesis.ts';
import type { KeyPair } from '../crypto/ed25519.ts';
import type { Logger } from '../util/logger.ts';
import type { Startable } from '../util/lifecycle.ts';
import type { NodeConfig } from './config.ts';
import { MEDCHAIN_VERSION } from './version.ts';
import { EvidenceReporter, VotePool, Voter } from '../chain/votes.ts';
import { Libp2pNetwork } from '../p2p/libp2pNetwork.ts';
import { Syncer } from '../p2p/sync.ts';
import { createNetworkHandlers, submitVote } from './networkHandlers.ts';
import { withAddedDelay } from './addedDelay.ts';
import { NodeMetrics } from './metrics.ts';
import { healthRoutes, peersRequired } from './health.ts';
import { describeBlock, describeHeader } from '../codec/block.ts';
import { BlobReplicator } from '../emr/replication.ts';
import { BlobRefusal, encodeBlobRefusal } from '../codec/blobRequest.ts';

export interface NodeModules {
  readonly logger: Logger;
  readonly clock?: () => number;
}

/** Reads and validates a genesis file; errors name the file and the field. */
export async function readGenesisFile(path: string): Promise<GenesisSpec> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new GenesisError(path, `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); run "medchain init" or pass --genesis`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new GenesisError(path, `is not valid JSON: ${(error as Error).message}`);
  }
  try {
    return parseGenesis(json);
  } catch (error) {
    if (error instanceof GenesisError) throw new GenesisError(path, error.message.replace(/^genesis /, ''));
    throw error;
  }
}

/**
 * The composition root: wires store, chain, mempool, producer and RPC, and runs them in one lifecycle.
 * Started in dependency order and stopped in reverse, so nothing writes after the store closes.
 */
export class MedchainNode implements Startable {
  readonly config: NodeConfig;
  readonly #logger: Logger;
  readonly #clock: () => number;
  readonly #started: Startable[] = [];
  #chain: Chain | undefined;
  #mempool: Mempool | undefined;
  #rpc: RpcHttpServer | undefined;
  #network: Libp2pNetwork | undefined;
  #syncer: Syncer | undefined;
  #records: RecordService | undefined;
  #replicator: BlobReplicator | undefined;
  /** The node's Prometheus metrics (set once started). */
  metrics: NodeMetrics | undefined;

  constructor(config: NodeConfig, modules: NodeModules) {
    this.config = config;
    this.#logger = modules.logger;
    this.#clock = modules.clock ?? Date.now;
  }

  get chain(): Chain {
    if (this.#chain === undefined) throw new Error('node not started');
    return this.#chain;
  }

  get mempool(): Mempool {
    if (this.#mempool === undefined) throw new Error('node not started');
    return this.#mempool;
  }

  /** The libp2p network, when p2p is enabled. */
  get network(): Libp2pNetwork | undefined {
    return this.#network;
  }

  async #blobHandler(request: Uint8Array, from: string): Promise<Uint8Array> {
    if (this.#replicator === undefined) return encodeBlobRefusal(BlobRefusal.Unavailable, 'starting');
    return this.#replicator.handleRequest(request, from);
  }

  /** The RPC address actually bound (port 0 picks a free one). */
  get rpcAddress(): { host: string; port: number } | undefined {
    return this.#rpc?.address;
  }

  async start(): Promise<void> {
    try {
      await this.#start();
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  async #start(): Promise<void> {
    const { config } = this;
    const logger = this.#logger;
    const genesis = await readGenesisFile(config.genesis);
    const validator: KeyPair | undefined = config.validatorKey === '' ? undefined : (await loadKey(config.datadir, config.validatorKey)).keyPair;

    const store: ChainStore = createLevelChainStore(join(config.datadir, 'chain'));
    await this.#startComponent(store);

    const cache = new SignatureCache();
    const verifier = new WorkerSignatureVerifier({}, cache);
    await this.#startComponent(verifier);
    const engine = createEngine(genesis);
    const chain = new Chain({ genesis }, { store, engine, verifier, knownTransactions: cache, logger: logger.child({ module: 'chain' }), clock: this.#clock });
    await this.#startComponent(chain);
    this.#chain = chain;
    logger.info({ genesisHash: toHex(chain.genesisHash), chainId: genesis.chainId, engine: engine.kind }, 'genesis');

    const metrics = new NodeMetrics({
      headHeight: () => chain.head.header.height,
      finalizedHeight: () => chain.finalized.height,
      peers: () => this.#network?.peers().length ?? 0,
      mempoolTransactions: () => mempool.size,
      syncTargetHeight: () => this.#syncer?.state().highestHeight ?? chain.head.header.height,
      deniedReadsTotal: () => this.#records?.deniedReadCount ?? 0,
    });
    this.metrics = metrics;
    chain.onReorg(() => metrics.reorg());

    const mempool = new Mempool(config.mempool, {
      chainId: genesis.chainId,
      state: () => chain.state,
      nextBlock: () => chain.nextBlockContext(Math.max(this.#clock(), chain.head.header.time + 1)),
      signatureCache: cache,
      clock: this.#clock,
    });
    chain.onHead((block) => mempool.onBlock(block));
    chain.onReorg((reverted) => {
      const back = mempool.readd(reverted);
      if (back > 0) logger.info({ transactions: back }, 'returned transactions of reverted blocks to the mempool');
    });
    this.#mempool = mempool;

    // Proof of stake: finality votes, this validator's voting duty, and evidence of equivocation.
    const isPos = engine.kind === 'pos';
    const votes = isPos ? new VotePool({ chain, signatureCache: cache }) : undefined;
    if (votes !== undefined) chain.onHead(() => votes.prune());
    const evidence =
      isPos && validator !== undefined
        ? new EvidenceReporter(
            { key: validator, chainId: genesis.chainId },
            { submit: (tx) => mempool.add(tx), nextNonce: () => mempool.nextNonce(validator.publicKey), logger: logger.child({ module: 'evidence' }) },
          )
        : undefined;

    // The network: gossip in, sync, and announcements out.
    let syncer: Syncer | undefined;
    let network: Libp2pNetwork | undefined;
    // Every block from the network, gossiped or synced, goes through here: timed for /metrics.
    const importBlock = async (bytes: Uint8Array, options?: ImportOptions) => {
      const started = performance.now();
      const block = await chain.importBlock(bytes, options);
      metrics.observeBlockImport((performance.now() - started) / 1000);
      return block;
    };
    if (config.p2p.enabled) {
      const handlers = withAddedDelay(createNetworkHandlers({
        chain,
        mempool,
        votes,
        evidence,
        blob: (request, from) => this.#blobHandler(request, from),
        logger: logger.child({ module: 'gossip' }),
        onUnknownParent: (peer, bytes) => void syncer?.onUnknownParent(peer, bytes),
        onPeerStatus: (peer, status) => syncer?.onPeerStatus(peer, status),
        onVerdict: (kind, verdict) => metrics.gossip(kind, verdict),
        importBlock,
      }), config.p2p.addedDelayMs);
      network = new Libp2pNetwork(
        { chainId: genesis.chainId, genesisHash: chain.genesisHash, datadir: config.datadir, listen: config.p2p.listen, bootstrap: config.p2p.bootstrap, maxPeers: config.p2p.maxPeers },
        { handlers, logger: logger.child({ module: 'p2p' }), clock: this.#clock },
      );
      syncer = new Syncer(
        {},
        {
          network,
          chain: { status: () => handlers.status(), importBlock, describeBlock, describeHeader },
          logger: logger.child({ module: 'sync' }),
          clock: this.#clock,
          ...(config.sync.assumeValid === undefined ? {} : { assumeValid: config.sync.assumeValid }),
        },
      );
      this.#network = network;
      this.#syncer = syncer;
      const net = network;
      mempool.onAdmitted((tx, origin) => {
        if (origin === 'local') void net.publish('tx', tx.bytes).catch((error: unknown) => logger.debug({ err: error }, 'publishing a transaction failed'));
      });
    }
    const publish = (kind: 'block' | 'vote', bytes: Uint8Array): void => {
      void network?.publish(kind, bytes).catch((error: unknown) => logger.debug({ err: error, kind }, 'publishing failed'));
    };

    const isHospital = validator !== undefined && genesis.hospitals.some((h) => bytesEqual(h.id, validator.publicKey));
    let replicator: BlobReplicator | undefined;
    const records = new RecordService({
      chain,
      mempool,
      escrow: isHospital ? validator : undefined,
      logger: logger.child({ module: 'emr' }),
      clock: this.#clock,
      fetchReplica: network === undefined || !isHospital ? undefined : (record, version, reader) => replicator!.fetchCustody(record, version, [reader]),
    });
    this.#records = records;
    if (network !== undefined) {
      replicator = new BlobReplicator({}, { chain, records, network, keyPair: isHospital ? validator : undefined, logger: logger.child({ module: 'blob' }), clock: this.#clock });
      this.#replicator = replicator;
    }

    if (config.rpc.enabled) {
      const queries = new RecordQueries(chain, records);
      const rpcLogger = logger.child({ module: 'rpc' });
      const subscriptions = new ChainSubscriptions({}, { chain, logger: rpcLogger });
      await this.#startComponent(subscriptions);
      const methods = createNodeMethods({
        chain,
        mempool,
        records,
        queries,
        version: MEDCHAIN_VERSION,
        validator: validator?.publicKey,
        startedAt: this.#clock(),
        clock: this.#clock,
        network,
        sync: syncer,
        submitVote: (tx) => submitVote(votes, evidence, tx).then(() => publish('vote', tx.bytes)),
        subscriptions,
      });
      const dispatcher = createDispatcher(methods, {
        logger: logger.child({ module: 'rpc' }),
        info: { title: 'medchain JSON-RPC', version: MEDCHAIN_VERSION },
      });
      // JSON-RPC over WebSocket at /ws, same dispatcher; started after the HTTP server, so stopped before it.
      const ws = new RpcWsServer({ corsOrigins: config.rpc.cors }, { dispatcher, subscriptions, logger: rpcLogger });
      const rpc = new RpcHttpServer(
        { host: config.rpc.host, port: config.rpc.port, maxBodyBytes: config.rpc.maxBodyBytes, corsOrigins: config.rpc.cors, allowedHosts: config.rpc.allowedHosts, adminToken: config.rpc.adminToken || undefined },
        {
          dispatcher,
          logger: logger.child({ module: 'rpc' }),
          onUpgrade: (req, socket, head, access) => ws.handleUpgrade(req, socket, head, access),
          extraRoutes: [
            ...ws.routes,
            ...staticFileRoutes({}, { logger: rpcLogger }),
            ...healthRoutes({
              metrics,
              readiness: {
                syncing: () => syncer?.state().syncing ?? false,
                peers: () => network?.peers().length ?? 0,
                requirePeers: peersRequired(config.p2p),
                head: () => chain.head.header.height,
                target: () => syncer?.state().highestHeight ?? chain.head.header.height,
              },
            }),
          ],
        },
      );
      await this.#startComponent(rpc);
      await this.#startComponent(ws);
      this.#rpc = rpc;
      logger.info({ url: `http://${rpc.address.host}:${rpc.address.port}/rpc` }, 'JSON-RPC listening');
      const appUrl = `http://${rpc.address.host}:${rpc.address.port}/`;
      if (existsSync(join(DEFAULT_WEB_ROOT, 'index.html'))) logger.info({ url: appUrl }, `web dashboards at ${appUrl}`);
      else logger.warn({ url: appUrl }, 'the web app is not built (npm run build); / explains how');
    }

    if (network !== undefined && syncer !== undefined) {
      await this.#startComponent(network);
      logger.info({ peerId: network.peerId, addresses: network.addresses }, 'p2p listening');
      await this.#startComponent(syncer);
      if (replicator !== undefined) await this.#startComponent(replicator);
    }
    // Vote while not syncing, or while the head is recent anyway: a peer claiming a far better head (true or
    // not) must not keep honest validators from voting.
    const recentMs = 4 * (genesis.consensus.engine === 'pos' ? genesis.consensus.slotMs : genesis.consensus.targetBlockMs);
    const synced = (): boolean => !(syncer?.state().syncing ?? false) || chain.head.header.time >= this.#clock() - recentMs;

    if (validator !== undefined && votes !== undefined) {
      const voter = new Voter({ key: validator }, { chain, pool: votes, publish: (tx) => publish('vote', tx.bytes), synced, logger: logger.child({ module: 'voter' }) });
      await this.#startComponent(voter);
    }

    if (validator !== undefined) {
      const sealer: Sealer = engine.kind === 'pow' ? new PowSealer(logger.child({ module: 'miner' })) : new PosSealer(validator.secretKey);
      const producer = new BlockProducer(
        { proposer: validator.publicKey },
        { chain, mempool, sealer, votes, publish: (block) => publish('block', block.bytes), logger: logger.child({ module: 'producer' }), clock: this.#clock },
      );
      await this.#startComponent(producer);
      logger.info({ validator: toHex(validator.publicKey) }, engine.kind === 'pow' ? 'mining' : 'proposing blocks in our slots');
    }
  }

  async #startComponent(component: Startable): Promise<void> {
    await component.start();
    this.#started.push(component);
  }

  async stop(): Promise<void> {
    while (this.#started.length > 0) {
      const component = this.#started.pop()!;
      try {
        await component.stop();
      } catch (error) {
        this.#logger.error({ err: error }, 'a component failed to stop cleanly');
      }
    }
  }
}
