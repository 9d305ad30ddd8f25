import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError, type CliIo } from '../../../src/cli/command.ts';
import { policyCommand } from '../../../src/cli/commands/policy.ts';
import { DEFAULT_POLICY, DEFAULT_POLICY_SOURCE } from '../../../src/script/index.ts';
import { toHex } from '../../../src/codec/bytes.ts';

const dir = mkdtempSync(join(tmpdir(), 'medchain-policy-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PATIENT = 'aa'.repeat(32);
const DOCTOR = 'bb'.repeat(32);
const HOSPITAL = 'dd'.repeat(32);

function file(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l) };
  const code = await policyCommand.run(args, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const source = file('record.policy', DEFAULT_POLICY_SOURCE);
const context = file(
  'ctx.json',
  JSON.stringify({
    requester: DOCTOR,
    owner: PATIENT,
    action: 'read',
    height: 10,
    time: 1_700_000_000_000,
    roles: { [DOCTOR]: 'doctor' },
    attestations: { [DOCTOR]: [{ hospital: HOSPITAL, expiresAt: 1_900_000_000_000 }] },
    grants: { [DOCTOR]: { scope: ['read'], expiresAt: 1_800_000_000_000 } },
  }),
);

describe('medchain policy', () => {
  it('has help with examples for the command and each subcommand', async () => {
    const overview = await cli('--help');
    expect(overview.code).toBe(0);
    expect(overview.out).toContain('Examples:');
    for (const sub of ['compile', 'check', 'disasm', 'eval', 'templates']) {
      const help = await cli(sub, '--help');
      expect(help.code).toBe(0);
      expect(help.out).toContain(`Usage: medchain policy ${sub}`);
      expect(help.out).toContain('Examples:');
    }
    expect(policyCommand.examples.length).toBeGreaterThan(0);
  });

  it('refuses a missing or unknown subcommand and unknown options with a UsageError', async () => {
    await expect(cli()).rejects.toBeInstanceOf(UsageError);
    await expect(cli('frobnicate')).rejects.toThrow(/unknown subcommand/);
    await expect(cli('compile', source, '--bogus')).rejects.toThrow(/unknown option --bogus/);
    await expect(cli('eval', source)).rejects.toThrow(/--context/);
    await expect(cli('check', join(dir, 'missing.policy'))).rejects.toThrow(/cannot read/);
  });

  it('compile prints hex, or writes binary or hex to --out', async () => {
    const printed = await cli('compile', source);
    expect(printed).toMatchObject({ code: 0, out: toHex(DEFAULT_POLICY) });
    expect(printed.err).toMatch(/28 bytes, 2 rules/);

    const bin = join(dir, 'record.bin');
    expect((await cli('compile', source, '--out', bin)).code).toBe(0);
    expect(toHex(readFileSync(bin))).toBe(toHex(DEFAULT_POLICY));

    const hex = join(dir, 'record.hex');
    expect((await cli('compile', source, `--out=${hex}`, '--hex')).code).toBe(0);
    expect(readFileSync(hex, 'utf8')).toBe(`${toHex(DEFAULT_POLICY)}\n`);
  });

  it('compile reports errors with file, line, column and a caret', async () => {
    const bad = file('bad.policy', 'allow read if requester == owner\nallow read if purpose = "TREAT"\n');
    const result = await cli('compile', bad);
    expect(result.code).toBe(1);
    expect(result.err).toContain(`${bad}:2:23: error INVALID_CHARACTER`);
    expect(result.err).toContain("did you mean '=='?");
    expect(result.err).toContain(`\n${' '.repeat(24)}^`);
  });

  it('compile applies the current flags unless told otherwise', async () => {
    const open = file('open.policy', 'allow read if true\n');
    expect((await cli('compile', open)).err).toContain('ALLOW_WITHOUT_REQUESTER');
    expect((await cli('compile', open, '--flags', 'none')).code).toBe(0);
    expect((await cli('compile', open, '--flags', 'v0')).code).toBe(0);
    expect((await cli('compile', open, '--flags', 'AttestedEmergency')).code).toBe(0);
    await expect(cli('compile', open, '--flags', 'Nope')).rejects.toThrow(/unknown flag/);
  });

  it('check accepts binary files, hex files, hex arguments and source', async () => {
    const bin = file('check.bin', DEFAULT_POLICY);
    const hexFile = file('check.hex', `0x${toHex(DEFAULT_POLICY)}\n`);
    for (const input of [bin, hexFile, toHex(DEFAULT_POLICY), source]) {
      const result = await cli('check', input);
      expect(result.code).toBe(0);
      expect(result.out).toMatch(/^ok: 28 bytes, format v1, 2 rules, stack depth \d+, nesting depth \d+, flags RequesterBoundAllow,AttestedEmergency$/);
    }
  });

  it('check names the error and the byte offset of invalid bytecode', async () => {
    const result = await cli('check', '0101023101');
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/^invalid: STACK_UNDERFLOW at byte 3: /);
    const open = await cli('check', '01010102');
    expect(open.out).toMatch(/^invalid: ALLOW_WITHOUT_REQUESTER at byte 1/);
    expect((await cli('check', '01010102', '--flags', 'none')).code).toBe(0);
  });

  it('disasm prints source that compiles back to the same bytes', async () => {
    const result = await cli('disasm', toHex(DEFAULT_POLICY));
    expect(result.code).toBe(0);
    expect(result.out).toBe(
      'allow read, write, delegate if requester == owner\nallow read, write, delegate if granted(requester, action) and role(requester) == "doctor" and attested(requester)',
    );
    const roundTrip = await cli('compile', file('round.policy', result.out));
    expect(roundTrip.out).toBe(toHex(DEFAULT_POLICY));
    const invalid = await cli('disasm', '02');
    expect(invalid).toMatchObject({ code: 1 });
    expect(invalid.out).toMatch(/^invalid: UNSUPPORTED_VERSION/);
  });

  it('eval answers allow / deny / error with exit codes 0 / 1 / 3', async () => {
    expect(await cli('eval', source, '--context', context)).toMatchObject({ code: 0, out: 'allow (rule 2, 43 steps)' });
    expect(await cli('eval', toHex(DEFAULT_POLICY), '--context', context, '--action', 'delegate')).toMatchObject({
      code: 1,
      out: 'deny: no rule allows delegate (19 steps)',
    });
    const json = await cli('eval', source, '--context', context, '--requester', PATIENT, '--json');
    expect(JSON.parse(json.out)).toEqual({ decision: 'allow', rule: 1, steps: 4 });
    expect((await cli('eval', source, '--context', context, '--time', '1800000000000')).code).toBe(1);
    // A granted doctor whose attestation the hospital revoked is refused.
    const revoked = { attestations: { [DOCTOR]: [{ hospital: HOSPITAL, expiresAt: 1_900_000_000_000, revoked: true }] } };
    const dismissed = file('dismissed.json', JSON.stringify({ ...JSON.parse(readFileSync(context, 'utf8')), ...revoked }));
    expect(await cli('eval', source, '--context', dismissed)).toMatchObject({ code: 1, out: 'deny: no rule allows read (43 steps)' });
    const badContext = await cli('eval', source, '--context', context, '--action', 'erase');
    expect(badContext.code).toBe(3);
    expect(badContext.out).toMatch(/^error INVALID_CONTEXT: .*context\.action/);
    expect((await cli('eval', '02', '--context', context)).out).toMatch(/^error UNSUPPORTED_VERSION/);
    await expect(cli('eval', source, '--context', context, '--time', 'soon')).rejects.toThrow(/--time/);
    await expect(cli('eval', source, '--context', file('notjson.json', '{'))).rejects.toThrow(/not JSON/);
  });

  it('eval can take the emergency flag and purpose from the command line', async () => {
    const emergency = file(
      'emergency.json',
      JSON.stringify({
        requester: DOCTOR,
        owner: PATIENT,
        action: 'read',
        height: 1,
        time: 5,
        roles: { [DOCTOR]: 'doctor' },
        attestations: { [DOCTOR]: [{ hospital: HOSPITAL, expiresAt: 10 }] },
      }),
    );
    const policy = file('emergency.policy', (await cli('templates', 'emergency-access')).out);
    expect((await cli('eval', policy, '--context', emergency)).code).toBe(1);
    expect((await cli('eval', policy, '--context', emergency, '--emergency', '--purpose', 'ETREAT')).out).toBe('allow (rule 3, 51 steps)');
  });

  it('templates lists, prints and fills templates', async () => {
    const list = await cli('templates');
    expect(list.out.split('\n')).toHaveLength(4);
    expect(list.out).toContain('hospital-doctors');
    expect((await cli('templates', 'owner-only')).out).toContain('allow read, write, delegate if requester == owner');
    const raw = await cli('templates', 'hospital-doctors');
    expect(raw.out).toContain('{{hospital}}');
    expect(raw.err).toContain('--hospital');
    const filled = await cli('templates', 'hospital-doctors', '--hospital', HOSPITAL);
    expect(filled.out).toContain(`attested_by(requester, 0x${HOSPITAL})`);
    await expect(cli('templates', 'hospital-doctors', '--hospital', 'xyz')).rejects.toThrow(/64 lowercase hex/);
    await expect(cli('templates', 'nope')).rejects.toThrow(/no template/);
  });
});
