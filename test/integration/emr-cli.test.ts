import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/codec/bytes.ts';
import { demoKeys } from '../../src/cli/commands/dev.ts';
import { type DevNode, rpcResult, runCliToEnd, startDevNode, waitFor } from '../helpers/process.ts';

const FHIR_FILE = new URL('../fixtures/fhir/patient-summary-collection.json', import.meta.url).pathname;

/**
 * The whole record flow through the `medchain` CLI against a real dev node process (PoS, LevelDB): the
 * patient adds a FHIR record and shares it, the doctor reads exactly the plaintext, the read is in the audit
 * trail, revocation and erasure take effect, each refusal with its own reason.
 */
describe('EMR flow through the medchain CLI and a real node', () => {
  let dir = '';
  let dev: DevNode;
  let rpcUrl = '';
  const keys = demoKeys();
  const cli = (...args: string[]) => runCliToEnd([...args, '--datadir', dir, '--rpc', rpcUrl], { timeoutMs: 60_000 });
  const query = (...args: string[]) => runCliToEnd([...args, '--rpc', rpcUrl], { timeoutMs: 60_000 });

  beforeAll(async () => {
    dev = await startDevNode('emr-cli');
    ({ dir, url: rpcUrl } = dev);
    // The dev chain attests its demo doctor in its first block.
    await waitFor('the demo doctor attested', async () => {
      const identity = await rpcResult<{ attestations: unknown[] } | null>(rpcUrl, 'identity_get', [toHex(keys.doctor.publicKey)]);
      return identity !== null && identity.attestations.length > 0 ? true : undefined;
    });
  }, 60_000);

  afterAll(() => dev.stop());

  it('add, grant, read, audit, revoke, erase', async () => {
    const added = await cli('record', 'add', '--key', 'patient', '--file', FHIR_FILE);
    expect(added.code, added.stderr).toBe(0);
    const recordId = added.stdout.trim();
    expect(recordId).toMatch(/^[0-9a-f]{64}$/);

    // Before any grant the doctor is refused, and gets nothing.
    const out = join(dir, 'read.json');
    const refused = await cli('record', 'read', '--key', 'doctor', '--record', recordId, '--purpose', 'TREAT', '--out', out);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('NO_GRANT');

    const granted = await cli('access', 'grant', '--key', 'patient', '--record', recordId, '--to', toHex(keys.doctor.publicKey), '--scope', 'read', '--expires', '7d');
    expect(granted.code, granted.stderr).toBe(0);
    const holders = await query('access', 'list', '--record', recordId);
    expect(JSON.parse(holders.stdout)).toMatchObject([{ grantee: toHex(keys.doctor.publicKey), scope: ['read'], active: true }]);

    const read = await cli('record', 'read', '--key', 'doctor', '--record', recordId, '--purpose', 'TREAT', '--out', out);
    expect(read.code, read.stderr).toBe(0);
    expect(await readFile(out)).toEqual(await readFile(FHIR_FILE));

    const audit = JSON.parse((await query('audit', '--record', recordId)).stdout);
    const reads = audit.entries.filter((e: { action: string }) => e.action === 'access.read');
    expect(reads.some((e: { actor: string; purpose: string }) => e.actor === toHex(keys.doctor.publicKey) && e.purpose === 'TREAT')).toBe(true);
    expect(audit.deniedReads).toMatchObject([{ requester: toHex(keys.doctor.publicKey), code: 'NO_GRANT' }]);

    const revoked = await cli('access', 'revoke', '--key', 'patient', '--record', recordId, '--from', toHex(keys.doctor.publicKey));
    expect(revoked.code, revoked.stderr).toBe(0);
    const afterRevoke = await cli('record', 'read', '--key', 'doctor', '--record', recordId, '--purpose', 'TREAT', '--out', out);
    expect(afterRevoke.code).toBe(1);
    expect(afterRevoke.stderr).toContain('GRANT_REVOKED');

    const erased = await cli('record', 'erase', '--key', 'patient', '--record', recordId);
    expect(erased.code, erased.stderr).toBe(0);
    const afterErase = await cli('record', 'read', '--key', 'patient', '--record', recordId, '--purpose', 'PATRQT', '--out', out);
    expect(afterErase.code).toBe(1);
    expect(afterErase.stderr).toContain('RECORD_ERASED');
  }, 120_000);

  it("break-glass: an attested doctor reads a record escrowed to the hospital, flagged in the patient's trail", async () => {
    const added = await cli('record', 'add', '--key', 'patient', '--file', FHIR_FILE, '--policy', 'emergency-access');
    expect(added.code, added.stderr).toBe(0);
    expect(added.stderr).toContain('escrowed to 1 hospital');
    const recordId = added.stdout.trim();
    const out = join(dir, 'emergency.json');
    const noReason = await cli('record', 'read', '--key', 'doctor', '--record', recordId, '--purpose', 'ETREAT', '--emergency', ' ', '--out', out);
    expect(noReason.code).toBe(1);
    expect(noReason.stderr).toContain('EMERGENCY_REASON_REQUIRED');
    const read = await cli('record', 'read', '--key', 'doctor', '--record', recordId, '--purpose', 'ETREAT', '--emergency', 'unconscious in the ED', '--out', out);
    expect(read.code, read.stderr).toBe(0);
    expect(await readFile(out)).toEqual(await readFile(FHIR_FILE));
    const audit = JSON.parse((await query('audit', '--patient', toHex(keys.patient.publicKey))).stdout);
    expect(audit.entries.at(-1)).toMatchObject({ action: 'access.read', emergency: true, reason: 'unconscious in the ED', purpose: 'ETREAT', record: recordId });
  }, 60_000);

  it('validator: lists the set and finality; stake and unstake are checked against balance and stake', async () => {
    const listed = await query('validator', 'list');
    expect(listed.code, listed.stderr).toBe(0);
    const view = JSON.parse(listed.stdout) as { validators: { id: string; stake: string; proposed: number }[]; finality: { finalized: { height: number } } };
    expect(view.validators).toEqual([{ id: toHex(keys.hospital.publicKey), stake: '1000', balance: '0', proposed: expect.any(Number), missed: expect.any(Number) }]);
    expect(view.validators[0]!.proposed).toBeGreaterThan(0);
    // The demo hospital has no unbonded balance, and cannot withdraw the chain's only stake.
    const stake = await cli('validator', 'stake', '--amount', '5', '--key', 'hospital');
    expect([stake.code, stake.stderr]).toEqual([1, expect.stringContaining('INSUFFICIENT_BALANCE')]);
    const all = await cli('validator', 'unstake', '--amount', '1000', '--key', 'hospital');
    expect([all.code, all.stderr]).toEqual([1, expect.stringContaining('INSUFFICIENT_STAKE')]);
    const bad = await cli('validator', 'unstake', '--amount', '1.5', '--key', 'hospital');
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining('--amount must be a whole number')]);
    const some = await cli('validator', 'unstake', '--amount', '100', '--key', 'hospital');
    expect(some.code, some.stderr).toBe(0);
    expect(some.stdout).toContain('unstaked 100');
  }, 60_000);

  it('refuses an invalid FHIR bundle before anything leaves the machine', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Observation' } }] }));
    const before = await rpcResult<{ height: number; mempoolSize: number }>(rpcUrl, 'node_info');
    const result = await cli('record', 'add', '--key', 'patient', '--file', bad);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/not a valid FHIR R4 Bundle/);
    expect(result.stderr).toMatch(/status|code/);
    expect((await rpcResult<{ mempoolSize: number }>(rpcUrl, 'node_info')).mempoolSize).toBe(before.mempoolSize);
  }, 60_000);
});
