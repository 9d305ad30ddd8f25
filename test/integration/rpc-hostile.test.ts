import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signTransaction } from '../../src/client/signTransaction.ts';
import { concatBytes, toHex } from '../../src/codec/bytes.ts';
import { encodeCanonical } from '../../src/codec/canonical.ts';
import { encodeSignedTransaction, encodeUnsignedTransaction } from '../../src/codec/transaction.ts';
import { sign } from '../../src/crypto/ed25519.ts';
import { DEV_CHAIN_ID } from '../../src/cli/commands/dev.ts';
import { MAX_TX_BYTES } from '../../src/types/primitives.ts';
import { TxType, type UnsignedTransaction } from '../../src/types/transaction.ts';
import { testKey } from '../helpers/fixtures.ts';
import { killAll, postRaw, REPO_ROOT, rpcResult, rpcUrlOf, spawnCli, waitFor, type CliProcess } from '../helpers/process.ts';

interface Header {
  hash: string;
  height: number;
  stateRoot: string;
}
interface Identity {
  role: string;
  nonce: number;
  registeredAt: number;
}

/**
 * Issue 2: every malformed transaction sent to tx_submit gets a JSON-RPC error naming the reason, the node
 * keeps producing blocks and nothing stored changes; malformed JSON, oversize bodies, 1,001-request batches
 * and deep nesting likewise. A real `medchain dev` process on 127.0.0.1.
 */
describe('hostile JSON-RPC input against a running node', () => {
  let dir: string;
  let node: CliProcess;
  let url: string;
  /** Every response body the node sent, scanned at the end for stack traces and paths. */
  const responses: string[] = [];

  const patient = testKey('rpc-hostile/patient');
  // Never validly submitted: if any variant of its registration got through, identity_get would show it.
  const bystander = testKey('rpc-hostile/bystander');
  let included: { blockHash: string; height: number; txId: string; bytes: Uint8Array };
  let before: { identity: Identity; block: { hash: string; header: Header }; height: number };

  async function post(body: string): Promise<{ status: number; json: unknown }> {
    const { status, text } = await postRaw(url, body);
    responses.push(text);
    return { status, json: JSON.parse(text) as unknown };
  }

  async function call<T>(method: string, params: unknown[] = []): Promise<T> {
    const result = await rpcResult<T>(url, method, params);
    responses.push(JSON.stringify(result));
    return result;
  }

  async function submit(bytes: Uint8Array | string): Promise<{ code: number; reason: string | undefined; message: string }> {
    const hex = typeof bytes === 'string' ? bytes : toHex(bytes);
    const { json } = await post(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tx_submit', params: [hex] }));
    const error = (json as { error?: { code: number; message: string; data?: { reason?: string } } }).error;
    if (error === undefined) throw new Error(`tx_submit accepted a malformed transaction: ${JSON.stringify(json)}`);
    return { code: error.code, reason: error.data?.reason, message: error.message };
  }

  /** Signs `unsigned` properly, whatever its body holds (the encoder does not check limits; the decoder does). */
  function signRaw(unsigned: UnsignedTransaction, secretKey: Uint8Array): Uint8Array {
    return encodeSignedTransaction(unsigned, sign(encodeUnsignedTransaction(unsigned), secretKey));
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'medchain-rpc-hostile-'));
    node = spawnCli(['dev', '--datadir', join(dir, 'dev'), '--rpc-port', '0', '--log-format', 'json']);
    url = await rpcUrlOf(node);

    const tx = signTransaction({ chainId: DEV_CHAIN_ID, sender: patient.publicKey, nonce: 0, body: { type: TxType.RegisterIdentity, role: 'patient' } }, patient.secretKey);
    const submitted = await call<{ txId: string; status: string }>('tx_submit', [toHex(tx.bytes)]);
    expect(submitted).toEqual({ txId: toHex(tx.id), status: 'pending' });
    const found = await waitFor('the registration to be included', async () => {
      const r = await call<{ status: string; blockHash?: string; height?: number }>('tx_get', [toHex(tx.id)]);
      return r.status === 'included' ? r : undefined;
    });
    included = { blockHash: found.blockHash!, height: found.height!, txId: toHex(tx.id), bytes: tx.bytes };
    const block = await call<{ hash: string; header: Header }>('chain_getBlock', [included.height]);
    before = { identity: await call<Identity>('identity_get', [toHex(patient.publicKey)]), block, height: (await call<Header>('chain_getHead')).height };
    expect(before.identity).toMatchObject({ role: 'patient', nonce: 1, registeredAt: included.height });
  }, 60_000);

  afterAll(async () => {
    await killAll();
    await rm(dir, { recursive: true, force: true });
  });

  it('names the reason for every malformed transaction', async () => {
    const valid = signTransaction({ chainId: DEV_CHAIN_ID, sender: bystander.publicKey, nonce: 0, body: { type: TxType.RegisterIdentity, role: 'doctor' } }, bystander.secretKey).bytes;
    const badSignature = valid.slice();
    badSignature[badSignature.length - 1]! ^= 0x01;
    const wrongChain = signTransaction({ chainId: 'medchain-other', sender: bystander.publicKey, nonce: 0, body: { type: TxType.RegisterIdentity, role: 'doctor' } }, bystander.secretKey).bytes;
    const replayWithNewBody = signTransaction({ chainId: DEV_CHAIN_ID, sender: patient.publicKey, nonce: 0, body: { type: TxType.RegisterIdentity, role: 'doctor' } }, patient.secretKey).bytes;
    const unknownType = encodeCanonical([DEV_CHAIN_ID, 99, bystander.publicKey, 0, [], new Uint8Array(64)]);
    const oversizeName = signRaw(
      {
        chainId: DEV_CHAIN_ID,
        sender: bystander.publicKey,
        nonce: 0,
        body: { type: TxType.AttestDoctor, doctor: patient.publicKey, name: 'x'.repeat(200), licence: 'L-1', expiresAt: Date.now() + 86_400_000 },
      },
      bystander.secretKey,
    );
    const oversizeTx = signRaw(
      { chainId: DEV_CHAIN_ID, sender: bystander.publicKey, nonce: 0, body: { type: TxType.RevokeAttestation, doctor: patient.publicKey, reason: 'y'.repeat(MAX_TX_BYTES) } },
      bystander.secretKey,
    );
    const fiveFields = encodeCanonical([DEV_CHAIN_ID, 1, bystander.publicKey, 0, [1]]);

    const cases: Array<[string, Uint8Array | string, number, string]> = [
      ['truncated', valid.subarray(0, valid.length - 1), -32010, 'TRUNCATED'],
      ['truncated to one byte', valid.subarray(0, 1), -32010, 'TRUNCATED'],
      ['trailing bytes', concatBytes(valid, Uint8Array.of(0)), -32010, 'TRAILING_BYTES'],
      ['bad signature', badSignature, -32011, 'BAD_SIGNATURE'],
      ['wrong chain id', wrongChain, -32011, 'WRONG_CHAIN'],
      ['replayed (included) transaction', included.bytes, -32011, 'NONCE_TOO_LOW'],
      ['used nonce, new body', replayWithNewBody, -32011, 'NONCE_TOO_LOW'],
      ['unknown type', unknownType, -32010, 'UNKNOWN_TYPE'],
      ['oversize field', oversizeName, -32010, 'OVERSIZE'],
      ['oversize transaction', oversizeTx, -32010, 'OVERSIZE'],
      ['five fields', fiveFields, -32010, 'WRONG_ARITY'],
      ['not hex', 'zz', -32602, 'INVALID_PARAMS'],
    ];
    const answers = [];
    for (const [name, bytes, code, reason] of cases) {
      const answer = await submit(bytes);
      answers.push({ name, code: answer.code, reason: answer.reason });
    }
    expect(answers).toEqual(cases.map(([name, , code, reason]) => ({ name, code, reason })));
  });

  it('refuses malformed JSON, oversize bodies, 1,001-request batches and deep nesting', async () => {
    const parse = await post('{"jsonrpc":"2.0","id":1,"method":"tx_submit","params":["00"');
    expect(parse.json).toMatchObject({ error: { code: -32700, data: { reason: 'PARSE_ERROR' } }, id: null });

    // 6 MiB, over the 5 MiB limit. Announced with Expect: 100-continue, the refusal comes before any upload.
    const oversizeBody = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tx_submit', params: ['00'.repeat(3 * 1024 * 1024)] });
    const announced = await postRaw(url, oversizeBody, { expectContinue: true });
    responses.push(announced.text);
    expect(announced.status).toBe(413);
    expect(JSON.parse(announced.text)).toMatchObject({ error: { code: -32600, data: { reason: 'BODY_TOO_LARGE' } }, id: null });
    // Sent outright, the node reads and drops the rest of the upload before answering, so a plain client
    // reads the 413 instead of a reset, every time.
    let plain: { status: number; text: string } | undefined;
    for (let attempt = 0; attempt < 5; attempt++) {
      plain = await postRaw(url, oversizeBody);
      expect(plain.status).toBe(413);
    }
    responses.push(plain!.text);
    expect(plain!.status).toBe(413);
    expect(JSON.parse(plain!.text)).toMatchObject({ error: { code: -32600, data: { reason: 'BODY_TOO_LARGE' } } });

    const request = { jsonrpc: '2.0', id: 1, method: 'chain_getHead' };
    const batch = await post(JSON.stringify(Array.from({ length: 1001 }, () => request)));
    expect(batch.json).toMatchObject({ error: { code: -32600, data: { reason: 'BATCH_TOO_LARGE' } } });
    const fullBatch = await post(JSON.stringify(Array.from({ length: 1000 }, (_, i) => ({ ...request, id: i }))));
    expect(fullBatch.json).toHaveLength(1000);

    const deep = await post(`{"jsonrpc":"2.0","id":1,"method":"tx_submit","params":${'['.repeat(5000)}${']'.repeat(5000)}}`);
    expect(deep.json).toMatchObject({ error: { code: -32600, data: { reason: 'NESTING_TOO_DEEP' } } });
    const deepUnclosed = await post('['.repeat(100_000));
    expect(deepUnclosed.json).toMatchObject({ error: { code: -32600, data: { reason: 'NESTING_TOO_DEEP' } } });

    const notRequest = await post('42');
    expect(notRequest.json).toMatchObject({ error: { code: -32600, data: { reason: 'INVALID_REQUEST' } } });
  });

  it('keeps producing blocks, and nothing it had stored has changed', async () => {
    const head = await call<Header>('chain_getHead');
    await waitFor('two more blocks', async () => ((await call<Header>('chain_getHead')).height >= head.height + 2 ? true : undefined), 15_000);
    const tx = await call<{ status: string; blockHash: string; height: number }>('tx_get', [included.txId]);
    expect(tx).toMatchObject({ status: 'included', blockHash: included.blockHash, height: included.height });
    expect(await call('identity_get', [toHex(patient.publicKey)])).toEqual(before.identity);
    expect(await call('identity_get', [toHex(bystander.publicKey)])).toBeNull();
    const block = await call<{ hash: string; header: Header }>('chain_getBlock', [included.height]);
    expect(block).toEqual(before.block);
    expect((await call<{ mempoolSize: number }>('node_info')).mempoolSize).toBe(0);
    expect(node.running).toBe(true);
  });

  it('never answers with a stack trace or a filesystem path', () => {
    expect(responses.length).toBeGreaterThan(20);
    for (const text of responses) {
      expect(text).not.toMatch(/\bat [^"]*\.ts:\d+/);
      expect(text).not.toMatch(/\.ts:\d+:\d+/);
      expect(text).not.toContain('node:internal');
      expect(text).not.toContain('/work/');
      expect(text).not.toContain(REPO_ROOT);
      expect(text).not.toContain(dir);
      expect(text).not.toContain(tmpdir());
    }
  });
});
