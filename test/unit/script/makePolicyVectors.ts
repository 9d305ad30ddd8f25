/**
 * Regenerates test/vectors/policy-vectors.json, the known-answer file that pins
 * the permission-script engine (src/script). Every expected result below is
 * written by hand from the language rules in docs/policy-language.md; this
 * script never runs the engine, it only lays the cases out (and expands the
 * long, repetitive hostile programs into compact repeat notation).
 * Run: ./node_modules/.bin/node test/unit/script/makePolicyVectors.ts
 * The cases are checked by test/unit/script/policyVectors.test.ts.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** A source or hex fragment: literal text, or [text, times] to repeat it. */
export type Fragment = string | [string, number];

export type Expectation =
  | { decision: 'allow'; rule?: number; steps?: number }
  | { decision: 'deny'; reason?: string; rule?: number | null }
  | { decision: 'error'; code: string }
  | { compileError: string; line: number; column: number };

export interface PolicyVector {
  name: string;
  /** Policy source: text, or fragments to concatenate. */
  source?: string | Fragment[];
  /** Raw bytecode in hex, instead of source. */
  hex?: string | Fragment[];
  /** Flags for checking/evaluating: "none" (default), "current", or flag names. */
  flags?: 'none' | 'current' | string[] | number;
  /** Flags for compiling, when they differ from `flags`. */
  compileFlags?: 'none' | 'current' | string[];
  /** Name of a context in `contexts`, or a full JSON context. */
  context?: string | Record<string, unknown>;
  /** Fields replacing those of the context (shallow). */
  with?: Record<string, unknown>;
  /** Expected bytecode of `source`, in hex. */
  program?: string;
  /** Expected size of the compiled program, in bytes. */
  programSize?: number;
  expect: Expectation;
}

// Identities: one byte repeated 32 times, named for the part they play.
const PATIENT = 'aa'.repeat(32);
const DOCTOR = 'bb'.repeat(32); // attested by HOSPITAL until LATEST, granted read+write until LATER
const ER_DOCTOR = 'cc'.repeat(32); // attested by HOSPITAL, no grant
const HOSPITAL = 'dd'.repeat(32);
const HOSPITAL2 = 'ee'.repeat(32);
const STRANGER = '11'.repeat(32); // no role
const REVOKED_DOCTOR = '22'.repeat(32); // grant revoked
const EXPIRED_DOCTOR = '33'.repeat(32); // grant expired
const LAPSED_DOCTOR = '44'.repeat(32); // attestation revoked by HOSPITAL, expired from HOSPITAL2
const RELATIVE = '55'.repeat(32); // patient role, read grant with no expiry
// Doctors granted read+write until LATER, whose attestations differ (the default policy needs a valid one from any hospital):
const DISMISSED_DOCTOR = '66'.repeat(32); // attestation by HOSPITAL revoked
const STALE_DOCTOR = '77'.repeat(32); // attestation by HOSPITAL expired at EARLIER
const UNATTESTED_DOCTOR = '88'.repeat(32); // no attestation at all
const MOVED_DOCTOR = '99'.repeat(32); // attestation by HOSPITAL revoked, attested by HOSPITAL2 until LATER

const NOW = 1_700_000_000_000;
const LATER = 1_800_000_000_000;
const LATEST = 1_900_000_000_000;
const EARLIER = 1_600_000_000_000;
const MAX = 9007199254740991;

const WORLD = {
  requester: PATIENT,
  owner: PATIENT,
  action: 'read',
  height: 1000,
  time: NOW,
  purpose: '',
  emergency: false,
  roles: {
    [PATIENT]: 'patient',
    [DOCTOR]: 'doctor',
    [ER_DOCTOR]: 'doctor',
    [HOSPITAL]: 'hospital',
    [HOSPITAL2]: 'hospital',
    [REVOKED_DOCTOR]: 'doctor',
    [EXPIRED_DOCTOR]: 'doctor',
    [LAPSED_DOCTOR]: 'doctor',
    [RELATIVE]: 'patient',
    [DISMISSED_DOCTOR]: 'doctor',
    [STALE_DOCTOR]: 'doctor',
    [UNATTESTED_DOCTOR]: 'doctor',
    [MOVED_DOCTOR]: 'doctor',
  },
  attestations: {
    [DOCTOR]: [{ hospital: HOSPITAL, expiresAt: LATEST }],
    [ER_DOCTOR]: [{ hospital: HOSPITAL, expiresAt: LATER, revoked: false }],
    [LAPSED_DOCTOR]: [
      { hospital: HOSPITAL, expiresAt: LATER, revoked: true },
      { hospital: HOSPITAL2, expiresAt: EARLIER },
    ],
    [DISMISSED_DOCTOR]: [{ hospital: HOSPITAL, expiresAt: LATER, revoked: true }],
    [STALE_DOCTOR]: [{ hospital: HOSPITAL, expiresAt: EARLIER }],
    [MOVED_DOCTOR]: [
      { hospital: HOSPITAL, expiresAt: LATER, revoked: true },
      { hospital: HOSPITAL2, expiresAt: LATER },
    ],
  },
  grants: {
    [DOCTOR]: { scope: ['read', 'write'], expiresAt: LATER },
    [REVOKED_DOCTOR]: { scope: ['read'], expiresAt: LATER, revoked: true },
    [EXPIRED_DOCTOR]: { scope: ['read'], expiresAt: EARLIER },
    [RELATIVE]: { scope: ['read'], expiresAt: null },
    [DISMISSED_DOCTOR]: { scope: ['read', 'write'], expiresAt: LATER },
    [STALE_DOCTOR]: { scope: ['read', 'write'], expiresAt: LATER },
    [UNATTESTED_DOCTOR]: { scope: ['read', 'write'], expiresAt: LATER },
    [MOVED_DOCTOR]: { scope: ['read', 'write'], expiresAt: LATER },
  },
};

const OWNER_RULE = 'allow read, write, delegate if requester == owner';
const GRANTED_RULE = 'allow read, write, delegate if granted(requester, action) and role(requester) == "doctor" and attested(requester)';
const EMERGENCY_RULE = 'allow read if emergency and role(requester) == "doctor" and attested(requester) and purpose == "ETREAT"';
const DEFAULT_SOURCE = `# The owner, and hospital-attested doctors the owner granted access to (scope and expiry come from the grant).\n${OWNER_RULE}\n${GRANTED_RULE}\n`;
const EMERGENCY_SOURCE = `${OWNER_RULE}\n${GRANTED_RULE}\n${EMERGENCY_RULE}\n`;
const hospitalSource = (h: string): string =>
  `${EMERGENCY_SOURCE}allow read if role(requester) == "doctor" and attested_by(requester, 0x${h})\n`;

// Rule 2 is `(granted and role == "doctor") and attested`: 10 12 23 And(11) <role == "doctor"> And(2) 10 21, 20 bytes.
const DEFAULT_HEX = '0107031011400714101223310b10200506646f63746f724031021021';
const EMERGENCY_HEX = `${DEFAULT_HEX}011e16310b10200506646f63746f724031021021310a15050645545245415440`;

const cases: PolicyVector[] = [];
const allow = (rule?: number): Expectation => (rule === undefined ? { decision: 'allow' } : { decision: 'allow', rule });
const deny = (reason: string, rule?: number | null): Expectation =>
  rule === undefined ? { decision: 'deny', reason } : { decision: 'deny', reason, rule };
const noRule = (action = 'read'): Expectation => ({ decision: 'deny', reason: `no rule allows ${action}`, rule: null });
const error = (code: string): Expectation => ({ decision: 'error', code });
const compileError = (code: string, line: number, column: number): Expectation => ({ compileError: code, line, column });

function add(v: PolicyVector): void {
  cases.push({ context: 'world', ...v });
}

/** Cases that share a source and differ by who asks and for what. */
function table(prefix: string, source: string, rows: [string, Record<string, unknown>, Expectation][], extra: Partial<PolicyVector> = {}): void {
  for (const [name, w, expect] of rows) add({ name: `${prefix}: ${name}`, source, with: w, expect, ...extra });
}

// ---------------------------------------------------------------- templates
table(
  'default policy',
  DEFAULT_SOURCE,
  [
    ['owner reads', { requester: PATIENT }, allow(1)],
    ['owner writes', { requester: PATIENT, action: 'write' }, allow(1)],
    ['owner delegates', { requester: PATIENT, action: 'delegate' }, allow(1)],
    ['granted doctor reads', { requester: DOCTOR }, allow(2)],
    ['granted doctor writes', { requester: DOCTOR, action: 'write' }, allow(2)],
    ['granted doctor may not delegate outside the grant scope', { requester: DOCTOR, action: 'delegate' }, noRule('delegate')],
    ['doctor with a revoked grant', { requester: REVOKED_DOCTOR }, noRule()],
    ['doctor with an expired grant', { requester: EXPIRED_DOCTOR }, noRule()],
    ['granted relative who is not a doctor', { requester: RELATIVE }, noRule()],
    ['stranger', { requester: STRANGER }, noRule()],
    ['attested doctor without a grant', { requester: ER_DOCTOR }, noRule()],
    ['break-glass is not part of the default', { requester: ER_DOCTOR, emergency: true, purpose: 'ETREAT' }, noRule()],
    ['grant expiry is exclusive: one ms before', { requester: DOCTOR, time: LATER - 1 }, allow(2)],
    ['grant expiry is exclusive: at expiresAt (attestation still valid)', { requester: DOCTOR, time: LATER }, noRule()],
    ['granted doctor whose attestation was revoked', { requester: DISMISSED_DOCTOR }, noRule()],
    ['granted doctor whose attestation was revoked may not write', { requester: DISMISSED_DOCTOR, action: 'write' }, noRule('write')],
    ['granted doctor whose attestation expired', { requester: STALE_DOCTOR }, noRule()],
    ['granted doctor before the attestation expired', { requester: STALE_DOCTOR, time: EARLIER - 1 }, allow(2)],
    ['attestation expiry is exclusive', { requester: STALE_DOCTOR, time: EARLIER }, noRule()],
    ['granted doctor never attested', { requester: UNATTESTED_DOCTOR }, noRule()],
    ['granted doctor attested by any hospital', { requester: MOVED_DOCTOR }, allow(2)],
    ['granted doctor attested by any hospital writes', { requester: MOVED_DOCTOR, action: 'write' }, allow(2)],
  ],
  { program: DEFAULT_HEX, flags: 'current' },
);
// Rule 1: 1 + 3 = 4. Rule 2: 1 + requester, action, granted (12) + and + role == "doctor" (13) + and + attested (11) = 39.
add({ name: 'default policy: steps of a granted read', source: DEFAULT_SOURCE, flags: 'current', with: { requester: DOCTOR }, expect: { decision: 'allow', rule: 2, steps: 43 } });

table(
  'owner-only template',
  `# Only the owner.\n${OWNER_RULE}\n`,
  [
    ['owner reads', { requester: PATIENT }, allow(1)],
    ['owner delegates', { requester: PATIENT, action: 'delegate' }, allow(1)],
    ['granted doctor is refused', { requester: DOCTOR }, noRule()],
  ],
  { program: '010703101140', flags: 'current' },
);

table(
  'emergency-access template',
  EMERGENCY_SOURCE,
  [
    ['owner reads', {}, allow(1)],
    ['granted doctor reads', { requester: DOCTOR }, allow(2)],
    ['granted doctor whose attestation was revoked', { requester: DISMISSED_DOCTOR }, noRule()],
    ['granted doctor whose attestation was revoked, emergency, ETREAT', { requester: DISMISSED_DOCTOR, emergency: true, purpose: 'ETREAT' }, noRule()],
    ['attested doctor, emergency, ETREAT', { requester: ER_DOCTOR, emergency: true, purpose: 'ETREAT' }, allow(3)],
    ['attested doctor, emergency, wrong purpose', { requester: ER_DOCTOR, emergency: true, purpose: 'TREAT' }, noRule()],
    ['attested doctor, ETREAT but no emergency flag', { requester: ER_DOCTOR, purpose: 'ETREAT' }, noRule()],
    ['doctor whose attestations lapsed', { requester: LAPSED_DOCTOR, emergency: true, purpose: 'ETREAT' }, noRule()],
    ['stranger claiming an emergency', { requester: STRANGER, emergency: true, purpose: 'ETREAT' }, noRule()],
    ['break-glass never writes', { requester: ER_DOCTOR, action: 'write', emergency: true, purpose: 'ETREAT' }, noRule('write')],
    ['attestation expiry is exclusive', { requester: ER_DOCTOR, emergency: true, purpose: 'ETREAT', time: LATER }, noRule()],
  ],
  { program: EMERGENCY_HEX, flags: 'current' },
);

table(
  'hospital-doctors template',
  hospitalSource(HOSPITAL),
  [
    ['doctor attested by the hospital reads', { requester: ER_DOCTOR }, allow(4)],
    ['granted doctor attested by the hospital writes', { requester: DOCTOR, action: 'write' }, allow(2)],
    ['granted doctor whose attestation was revoked', { requester: DISMISSED_DOCTOR }, noRule()],
    ['granted doctor attested by another hospital reads through the grant', { requester: MOVED_DOCTOR }, allow(2)],
    ['doctor whose attestation was revoked', { requester: LAPSED_DOCTOR }, noRule()],
    ['attested doctor may not write', { requester: ER_DOCTOR, action: 'write' }, noRule('write')],
    ['hospital itself is not a doctor', { requester: HOSPITAL }, noRule()],
  ],
  { flags: 'current' },
);
add({ name: 'hospital-doctors template for another hospital', source: hospitalSource(HOSPITAL2), flags: 'current', with: { requester: ER_DOCTOR }, expect: noRule() });
add({ name: 'hospital-doctors template: expired attestation from that hospital', source: hospitalSource(HOSPITAL2), flags: 'current', with: { requester: LAPSED_DOCTOR }, expect: noRule() });

// ---------------------------------------------------------------- issue examples and rule order
const ISSUE = [
  'allow read  if requester == owner',
  'allow read  if granted(requester, "read") and not expired(requester)',
  'allow read  if emergency and role(requester) == "doctor" and attested(requester) and purpose == "ETREAT"',
  'allow write if requester == owner or granted(requester, "write")',
  'deny  read  if revoked(requester)',
].join('\n');
table(
  'issue example',
  ISSUE,
  [
    ['owner reads', {}, allow(1)],
    ['granted doctor reads', { requester: DOCTOR }, allow(2)],
    ['granted doctor writes', { requester: DOCTOR, action: 'write' }, allow(4)],
    ['revoked doctor is denied by the deny rule', { requester: REVOKED_DOCTOR }, deny('rule 5 denies read', 5)],
    ['expired grant', { requester: EXPIRED_DOCTOR }, noRule()],
    ['break-glass', { requester: ER_DOCTOR, emergency: true, purpose: 'ETREAT' }, allow(3)],
    ['nobody delegates', { action: 'delegate' }, noRule('delegate')],
  ],
  { flags: 'current' },
);

const trueAnd = `time + ${MAX} > 0`; // overflows whenever it runs
add({ name: 'deny wins over an earlier allow', source: 'allow read if requester == owner\ndeny read if requester == owner', expect: deny('rule 2 denies read', 2) });
add({ name: 'deny for another action does not apply', source: 'deny write if true\nallow read if true', expect: allow(2) });
add({ name: 'allow for another action does not apply', source: 'allow write if true', expect: noRule() });
add({ name: 'false deny then allow', source: 'deny read if false\nallow read if true', expect: allow(2) });
add({ name: 'first matching allow decides', source: 'allow read if false\nallow read if true\nallow read if true', expect: allow(2) });
add({ name: 'first matching deny decides', source: 'deny read if true\ndeny read if true', expect: deny('rule 1 denies read', 1) });
add({ name: 'one rule, several actions: delegate', source: 'allow read, delegate if true', with: { action: 'delegate' }, expect: allow(1) });
add({ name: 'actions listed in any order', source: 'allow delegate, read if true', expect: allow(1), program: '01050102' });
add({ name: 'deny rules run before allow rules, even when later in source', source: `allow read if true\ndeny read if ${trueAnd}`, expect: error('INTEGER_OVERFLOW') });
add({ name: 'an error in an allow rule before the matching one', source: `allow read if ${trueAnd}\nallow read if true`, expect: error('INTEGER_OVERFLOW') });
add({ name: 'rules after the deciding allow do not run', source: `allow read if true\nallow read if ${trueAnd}`, expect: allow(1) });
add({ name: 'rules for other actions do not run', source: `allow write if ${trueAnd}\nallow read if true`, expect: allow(2) });
add({ name: 'and short-circuits', source: `allow read if false and ${trueAnd}`, expect: noRule() });
add({ name: 'and evaluates its right operand', source: `allow read if true and ${trueAnd}`, expect: error('INTEGER_OVERFLOW') });
add({ name: 'or short-circuits', source: `allow read if true or ${trueAnd}`, expect: allow(1) });
add({ name: 'or evaluates its right operand', source: `allow read if false or ${trueAnd}`, expect: error('INTEGER_OVERFLOW') });

// ---------------------------------------------------------------- operators
const expr = (name: string, condition: string, holds: boolean, w: Record<string, unknown> = {}, program?: string): void =>
  add({ name, source: `allow read if ${condition}`, with: w, expect: holds ? allow(1) : noRule(), ...(program ? { program } : {}) });

expr('and binds tighter than or', 'true or false and false', true);
expr('parentheses override precedence', '(true or false) and false', false);
expr('not binds tighter than and', 'not false and false', false);
expr('not binds looser than a comparison', 'not 1 == 2', true);
expr('double negation', 'not not true', true);
expr('subtraction is left-associative', '10 - 5 - 2 == 3', true);
expr('negative literals', '-5 < -4 and 10 - 20 == -10', true);
expr('minus a negative literal', '1 - -1 == 2', true, {}, '010108030104015103' + '0240');
expr('integer literal zero and minus zero are the same', '-0 == 0', true, {}, '01010503000300' + '40');
expr('less than', `time < ${NOW}`, false);
expr('less or equal', `time <= ${NOW}`, true);
expr('greater than', `time > ${NOW - 1}`, true);
expr('greater or equal', `time >= ${NOW + 1}`, false);
expr('height', 'height == 1000 and height != 999', true);
expr('time arithmetic: within 30 days of a date', `time - ${NOW - 86_400_000} <= 2592000000`, true);
expr('string equality is exact', 'purpose == "treat"', false, { purpose: 'TREAT' });
expr('string inequality', 'purpose != "TREAT"', false, { purpose: 'TREAT' });
expr('empty purpose', 'purpose == ""', true);
expr('non-ASCII strings compare by content', 'purpose == "Notfall-Behandlung ü €"', true, { purpose: 'Notfall-Behandlung ü €' });
expr('escaped quote and backslash', 'purpose == "a\\"b\\\\c"', true, { purpose: 'a"b\\c' });
expr('emergency flag', 'emergency == false', true);
expr('emergency flag set', 'emergency', true, { emergency: true });
expr('booleans compare', 'emergency == (purpose == "ETREAT")', true, { emergency: true, purpose: 'ETREAT' });
expr('action variable', 'action == "read"', true);
expr('identity literals compare with requester', `requester == 0x${PATIENT}`, true);
expr('identity literals are case-insensitive in source', `requester == 0x${PATIENT.toUpperCase()}`, true);
expr('owner is not the requester', 'requester != owner', true, { requester: STRANGER });

// ---------------------------------------------------------------- built-ins
expr('role of a doctor', 'role(requester) == "doctor"', true, { requester: DOCTOR });
expr('role of a patient', 'role(owner) == "patient"', true);
expr('role of a hospital by literal', `role(0x${HOSPITAL}) == "hospital"`, true);
expr('role of an unregistered identity is "none"', 'role(requester) == "none"', true, { requester: STRANGER });
expr('attested', 'attested(requester)', true, { requester: ER_DOCTOR });
expr('attested: revoked and expired attestations do not count', 'attested(requester)', false, { requester: LAPSED_DOCTOR });
expr('attested: no attestation', 'attested(requester)', false, { requester: STRANGER });
expr('attested: one ms before expiry', 'attested(requester)', true, { requester: ER_DOCTOR, time: LATER - 1 });
expr('attested_by the attesting hospital', `attested_by(requester, 0x${HOSPITAL})`, true, { requester: ER_DOCTOR });
expr('attested_by another hospital', `attested_by(requester, 0x${HOSPITAL2})`, false, { requester: ER_DOCTOR });
expr('attested_by: revoked', `attested_by(requester, 0x${HOSPITAL})`, false, { requester: LAPSED_DOCTOR });
expr('attested_by: expired', `attested_by(requester, 0x${HOSPITAL2})`, false, { requester: LAPSED_DOCTOR });
expr('attested_by: expired attestation valid at an earlier time', `attested_by(requester, 0x${HOSPITAL2})`, true, { requester: LAPSED_DOCTOR, time: EARLIER - 1 });
expr('granted with scope', 'granted(requester, "read")', true, { requester: DOCTOR });
expr('granted: scope not covered', 'granted(requester, "delegate")', false, { requester: DOCTOR });
expr('granted: scope names are exact', 'granted(requester, "Read")', false, { requester: DOCTOR });
expr('granted: unknown scope is never granted', 'granted(requester, "erase")', false, { requester: DOCTOR });
expr('granted: revoked', 'granted(requester, "read")', false, { requester: REVOKED_DOCTOR });
expr('granted: expired', 'granted(requester, "read")', false, { requester: EXPIRED_DOCTOR });
expr('granted: no expiry', 'granted(requester, "read")', true, { requester: RELATIVE, time: MAX });
expr('granted: no grant', 'granted(requester, "read")', false, { requester: STRANGER });
add({ name: 'granted with the action variable', source: 'allow read, write if granted(requester, action)', with: { requester: DOCTOR, action: 'write' }, expect: allow(1) });
add({ name: 'granted with the action variable: scope not covered', source: 'allow write, delegate if granted(requester, action)', with: { requester: DOCTOR, action: 'delegate' }, expect: noRule('delegate') });
expr('expired', 'expired(requester)', true, { requester: EXPIRED_DOCTOR });
expr('expired: at expiresAt', 'expired(requester)', true, { requester: DOCTOR, time: LATER });
expr('expired: before expiresAt', 'expired(requester)', false, { requester: DOCTOR, time: LATER - 1 });
expr('expired: grant without expiry', 'expired(requester)', false, { requester: RELATIVE });
expr('expired: no grant', 'expired(requester)', false, { requester: STRANGER });
expr('revoked', 'revoked(requester)', true, { requester: REVOKED_DOCTOR });
expr('revoked: live grant', 'revoked(requester)', false, { requester: DOCTOR });
expr('revoked: no grant', 'revoked(requester)', false, { requester: STRANGER });
expr('membership in a string list', 'purpose in ["TREAT", "ETREAT", "HPAYMT"]', true, { purpose: 'ETREAT' });
expr('not in a string list', 'purpose in ["TREAT", "ETREAT"]', false, { purpose: 'HRESCH' });
expr('membership in an identity list', `requester in [0x${DOCTOR}, 0x${ER_DOCTOR}]`, true, { requester: ER_DOCTOR });
expr('not in an identity list', `requester in [0x${DOCTOR}, 0x${ER_DOCTOR}]`, false, { requester: STRANGER });
expr('membership in an integer list', 'height in [1, 1000, -3]', true);
expr('negative integers in a list', '0 - 3 in [1, 1000, -3]', true);
expr('membership in a boolean list', 'emergency in [false]', true);
expr('role in a list', 'role(requester) in ["doctor", "hospital"]', true, { requester: HOSPITAL });
add({
  name: 'steps: a list costs one step per element',
  source: 'allow read if height in [1, 2, 3, 1000]',
  expect: { decision: 'allow', rule: 1, steps: 7 },
  program: '01010c13460403010302030303e807',
});
add({
  name: 'steps: a lookup costs 10',
  source: 'allow read if revoked(requester) or true',
  expect: { decision: 'allow', rule: 1, steps: 14 },
});
add({ name: 'comments and line breaks inside a rule', source: '# header\nallow read # trailing\n  if requester ==\n     owner # end\n', expect: allow(1), program: '010103101140' });

// ---------------------------------------------------------------- flags
add({ name: 'flags: a public rule is fine without flags', source: 'allow read if true', with: { requester: STRANGER }, expect: allow(1) });
add({ name: 'flags: RequesterBoundAllow refuses a public rule', source: 'allow read if true', flags: ['RequesterBoundAllow'], expect: compileError('ALLOW_WITHOUT_REQUESTER', 1, 1) });
add({ name: 'flags: current refuses a public rule on line 2', source: 'allow read if requester == owner\nallow read if purpose == "TREAT"', flags: 'current', expect: compileError('ALLOW_WITHOUT_REQUESTER', 2, 1) });
add({ name: 'flags: old bytecode fails once the flag is on', source: 'allow read if true', compileFlags: 'none', flags: 'current', expect: error('ALLOW_WITHOUT_REQUESTER') });
add({ name: 'flags: every or-alternative must mention requester', source: 'allow read if requester == owner or emergency', flags: ['RequesterBoundAllow'], expect: compileError('ALLOW_WITHOUT_REQUESTER', 1, 1) });
add({ name: 'flags: requester inside a conjunction is enough', source: 'allow read if emergency and attested(requester)', flags: 'current', with: { requester: ER_DOCTOR, emergency: true }, expect: allow(1) });
add({ name: 'flags: the check is about mentioning requester only', source: 'allow read if requester == requester', flags: ['RequesterBoundAllow'], with: { requester: STRANGER }, expect: allow(1) });
add({ name: 'flags: deny rules are not restricted', source: 'deny read if emergency\nallow read if requester == owner', flags: 'current', expect: allow(2) });
add({ name: 'flags: AttestedEmergency refuses unattested break-glass', source: 'allow read if emergency and role(requester) == "doctor"', flags: ['AttestedEmergency'], expect: compileError('UNATTESTED_EMERGENCY', 1, 1) });
add({ name: 'flags: attestation of someone else does not count', source: 'allow read if emergency and attested(owner) and requester == owner', flags: 'current', expect: compileError('UNATTESTED_EMERGENCY', 1, 1) });
add({ name: 'flags: negated attestation does not count', source: 'allow read if emergency and not attested(requester)', flags: 'current', expect: compileError('UNATTESTED_EMERGENCY', 1, 1) });
add({ name: 'flags: attestation must be a top-level conjunct', source: 'allow read if emergency and (attested(requester) or true)', flags: 'current', expect: compileError('UNATTESTED_EMERGENCY', 1, 1) });
add({ name: 'flags: attested_by counts', source: `allow read if attested_by(requester, 0x${HOSPITAL}) and emergency`, flags: 'current', with: { requester: ER_DOCTOR, emergency: true }, expect: allow(1) });
add({ name: 'flags: each emergency alternative is checked', source: 'allow read if (emergency and attested(requester)) or requester == owner', flags: 'current', expect: allow(1) });
add({ name: 'flags: only AttestedEmergency allows an unbound non-emergency rule', source: 'allow read if true', flags: ['AttestedEmergency'], with: { requester: STRANGER }, expect: allow(1) });
add({ name: 'flags: unknown flag bits', source: 'allow read if requester == owner', compileFlags: 'none', flags: 4, expect: error('UNKNOWN_FLAGS') });

// ---------------------------------------------------------------- compile errors (line, column are 1-based)
const bad = (name: string, source: string | Fragment[], code: string, line: number, column: number): void =>
  add({ name: `compile error: ${name}`, source, expect: compileError(code, line, column) });

bad('empty source', '', 'NO_RULES', 1, 1);
bad('only comments', '# nothing here\n', 'NO_RULES', 2, 1);
bad('unknown rule keyword', 'permit read if true', 'UNEXPECTED_TOKEN', 1, 1);
bad('misspelt action', 'allow reed if true', 'UNEXPECTED_TOKEN', 1, 7);
bad('duplicate action', 'allow read, read if true', 'DUPLICATE_ACTION', 1, 13);
bad('missing if', 'allow read', 'UNEXPECTED_TOKEN', 1, 11);
bad('missing condition', 'allow read if', 'UNEXPECTED_TOKEN', 1, 14);
bad('condition is not a bool', 'allow read if 1', 'TYPE_MISMATCH', 1, 15);
bad('identity compared with a string', 'allow read if requester == "aa"', 'TYPE_MISMATCH', 1, 28);
bad('ordering of strings', 'allow read if purpose < "b"', 'TYPE_MISMATCH', 1, 15);
bad('arithmetic on a string', 'allow read if purpose + 1 == 2', 'TYPE_MISMATCH', 1, 15);
bad('and of an integer', 'allow read if true and 1', 'TYPE_MISMATCH', 1, 24);
bad('not of an integer', 'allow read if not 5', 'TYPE_MISMATCH', 1, 19);
bad('too few arguments', 'allow read if granted(requester)', 'WRONG_ARGUMENT_COUNT', 1, 15);
bad('too many arguments', 'allow read if attested(requester, owner)', 'WRONG_ARGUMENT_COUNT', 1, 15);
bad('argument of the wrong type', 'allow read if granted(requester, 1)', 'TYPE_MISMATCH', 1, 34);
bad('function without parentheses', 'allow read if granted', 'UNEXPECTED_TOKEN', 1, 22);
bad('unknown name', 'allow read if doctor', 'UNKNOWN_NAME', 1, 15);
bad('names are case-sensitive', 'allow read if Requester == owner', 'UNKNOWN_NAME', 1, 15);
bad('keyword where a value belongs', 'allow read if and', 'UNEXPECTED_TOKEN', 1, 15);
bad('single equals sign', 'allow read if requester = owner', 'INVALID_CHARACTER', 1, 25);
bad('C-style operator', 'allow read if true && true', 'INVALID_CHARACTER', 1, 20);
bad('unclosed string', 'allow read if purpose == "TREAT', 'UNTERMINATED_STRING', 1, 26);
bad('string broken by a newline', 'allow read if purpose == "TR\nEAT"', 'UNTERMINATED_STRING', 1, 26);
bad('unknown escape', 'allow read if purpose == "a\\nb"', 'INVALID_ESCAPE', 1, 28);
bad('tab inside a string', 'allow read if purpose == "a\tb"', 'INVALID_STRING', 1, 28);
bad('bidi override inside a string', 'allow read if purpose == "a\u202eb"', 'INVALID_STRING', 1, 28);
bad('bidi override hidden in a comment', '# \u2066 trojan\nallow read if true', 'INVALID_CHARACTER', 1, 3);
bad('non-ASCII outside strings', 'allow read if purpose == «TREAT»', 'INVALID_CHARACTER', 1, 26);
bad('short identity literal', 'allow read if requester == 0x1234', 'INVALID_ID_LITERAL', 1, 28);
bad('identity literal with a stray letter', `allow read if requester == 0x${PATIENT}g`, 'INVALID_ID_LITERAL', 1, 28);
bad('number run into a name', 'allow read if height == 12abc', 'UNEXPECTED_TOKEN', 1, 27);
bad('chained comparison', 'allow read if 1 == 1 == true', 'CHAINED_COMPARISON', 1, 22);
bad('comparison chained with in', 'allow read if height == 1 in [true]', 'CHAINED_COMPARISON', 1, 27);
bad('unary minus on a name', 'allow read if -time < 0', 'UNEXPECTED_TOKEN', 1, 16);
bad('empty list', 'allow read if purpose in []', 'EMPTY_LIST', 1, 26);
bad('non-literal list element', 'allow read if purpose in [purpose]', 'UNEXPECTED_TOKEN', 1, 27);
bad('mixed list', 'allow read if purpose in ["a", 1]', 'TYPE_MISMATCH', 1, 32);
bad('in without a list', `allow read if requester in 0x${PATIENT}`, 'UNEXPECTED_TOKEN', 1, 28);
bad('unclosed list', 'allow read if height in [1, 2', 'UNEXPECTED_TOKEN', 1, 30);
bad('unclosed parenthesis', 'allow read if (true', 'UNEXPECTED_TOKEN', 1, 20);
bad('two conditions without an operator', 'allow read if true true', 'UNEXPECTED_TOKEN', 1, 20);
bad('error on a later line', 'allow read if requester == owner\n\ndeny write if role(requester) == 3', 'TYPE_MISMATCH', 3, 34);
bad('column counts characters, not bytes', 'allow read if purpose == "€€" and x', 'UNKNOWN_NAME', 1, 35);

// ---------------------------------------------------------------- limits, exactly and one past
const ints = (from: number, count: number): string => Array.from({ length: count }, (_, i) => String(from + i)).join(', ');

add({ name: 'limit: largest integer literal', source: `allow read if ${MAX} - 1 == ${MAX - 1}`, expect: allow(1) });
add({ name: 'limit: smallest integer literal', source: `allow read if -${MAX} < 0`, expect: allow(1) });
bad('integer literal one past the largest', `allow read if ${MAX + 1} > 0`, 'INTEGER_OUT_OF_RANGE', 1, 15);
bad('integer literal one past the smallest', `allow read if -${MAX + 1} < 0`, 'INTEGER_OUT_OF_RANGE', 1, 16);
bad('huge integer literal', ['allow read if ', ['9', 60000], ' > 0'], 'INTEGER_OUT_OF_RANGE', 1, 15);
add({ name: 'limit: sum exactly at the largest integer', source: `allow read if time + (${MAX} - time) == ${MAX}`, expect: allow(1) });
add({ name: 'limit: sum one past the largest integer', source: `allow read if time + (${MAX} - time) + 1 > 0`, expect: error('INTEGER_OVERFLOW') });
add({ name: 'limit: difference one past the smallest integer', source: `allow read if -${MAX} - 1 < 0`, expect: error('INTEGER_OVERFLOW') });
add({ name: 'limit: string of 256 ASCII bytes', source: ['allow read if purpose == "', ['a', 256], '"'], with: { purpose: 'a'.repeat(256) }, expect: allow(1) });
bad('string of 257 bytes', ['allow read if purpose == "', ['a', 257], '"'], 'STRING_TOO_LONG', 1, 26);
add({ name: 'limit: string of 256 UTF-8 bytes in 128 characters', source: ['allow read if purpose != "', ['é', 128], '"'], expect: allow(1) });
bad('string of 258 UTF-8 bytes in 129 characters', ['allow read if purpose != "', ['é', 129], '"'], 'STRING_TOO_LONG', 1, 26);
bad('huge string literal', ['allow read if purpose == "', ['x', 60000], '"'], 'STRING_TOO_LONG', 1, 26);
add({ name: 'limit: context purpose of 257 bytes', source: 'allow read if true', with: { purpose: 'a'.repeat(257) }, expect: error('INVALID_CONTEXT') });
add({ name: 'limit: list of 64 elements', source: `allow read if height in [${ints(937, 64)}]`, expect: allow(1) });
bad('list of 65 elements', `allow read if height in [${ints(0, 65)}]`, 'LIST_TOO_LONG', 1, 28 + ints(0, 64).length);
add({ name: 'limit: 63 nested nots (depth 64)', source: ['allow read if ', ['not ', 63], 'false'], expect: allow(1) });
bad('64 nested nots (depth 65)', ['allow read if ', ['not ', 64], 'false'], 'NESTING_TOO_DEEP', 1, 15);
add({ name: 'limit: 64 nested parentheses', source: ['allow read if ', ['(', 64], 'true', [')', 64]], expect: allow(1) });
bad('65 nested parentheses', ['allow read if ', ['(', 65], 'true', [')', 65]], 'NESTING_TOO_DEEP', 1, 79);
bad('30000 nested parentheses (no crash)', ['allow read if ', ['(', 30000], 'true', [')', 30000]], 'NESTING_TOO_DEEP', 1, 79);
add({ name: 'limit: and-chain of 64 operands (depth 64)', source: ['allow read if true', [' and true', 63]], expect: allow(1) });
bad('and-chain of 65 operands (depth 65)', ['allow read if true', [' and true', 64]], 'NESTING_TOO_DEEP', 1, 15 + 4 + 63 * 9 + 1);
add({ name: 'limit: stack of 32 values', source: ['allow read if ', ['1 + (', 31], '1', [')', 31], ' == 32'], expect: allow(1) });
bad('stack of 33 values', ['allow read if ', ['1 + (', 32], '1', [')', 32], ' == 33'], 'STACK_OVERFLOW', 1, 15 + 32 * 5);
add({ name: 'limit: 64 rules', source: [['allow read if false\n', 63], 'allow read if true\n'], expect: allow(64) });
bad('65 rules', [['allow read if false\n', 64], 'allow read if true\n'], 'TOO_MANY_RULES', 65, 1);

// Program size: the version byte, then 15 rules `purpose == "<256 x>"` of 1 + 2 + (1 + 1 + 2 + 256 + 1) = 264 bytes
// (3961 in all), `purpose != "<123 x>"` of 1 + 1 + 127 = 129, `false` of 3: 4093; then `true` (3) or `not false` (4).
const bigRule: Fragment[] = ['allow read if purpose == "', ['x', 256], '"\n'];
const sizeCase = (last: string): Fragment[] => [
  ...Array.from({ length: 15 }, () => bigRule).flat(),
  'allow read if purpose != "',
  ['x', 123],
  '"\nallow read if false\n',
  last,
];
add({ name: 'limit: program of exactly 4096 bytes', source: sizeCase('allow read if true\n'), programSize: 4096, expect: allow(16) });
bad('program of 4097 bytes', sizeCase('allow read if not false\n'), 'PROGRAM_TOO_LARGE', 18, 1);

// Step budget (1000): a rule `height in [64 ints]` costs 1 (rule) + 1 (height) + 1 + 64 (in) = 67; 14 of them cost 938.
// A last rule `height in [n ints, ending with 1000]` costs 3 + n: 59 elements make exactly 1000.
const costlyRule = `allow read if height in [${ints(0, 64)}]\n`;
const budgetCase = (n: number): Fragment[] => [[costlyRule, 14], `allow read if height in [${ints(1, n - 1)}, 1000]\n`];
add({ name: 'limit: evaluation of exactly 1000 steps', source: budgetCase(59), expect: { decision: 'allow', rule: 15, steps: 1000 } });
add({ name: 'limit: evaluation of 1001 steps', source: budgetCase(60), expect: error('STEP_BUDGET_EXCEEDED') });
add({ name: 'limit: the budget is spent before a deny is found', source: [['deny read if revoked(requester) or revoked(owner)\n', 45], 'deny read if true'], expect: error('STEP_BUDGET_EXCEEDED') });
add({
  name: 'limit: would run (nearly) forever: largest, costliest program stops at the budget',
  source: Array.from({ length: 16 }, (): Fragment[] => ['allow read if revoked(requester)', [' or revoked(requester)', 62], '\n']).flat(),
  expect: error('STEP_BUDGET_EXCEEDED'),
});
add({ name: 'limit: source of exactly 65536 bytes', source: ['allow read if true\n#', ['x', 65536 - 20]], expect: allow(1) });
bad('source of 65537 bytes', ['allow read if true\n#', ['x', 65536 - 19]], 'SOURCE_TOO_LARGE', 1, 1);

// ---------------------------------------------------------------- bytecode (hex)
// Layout: 01 (version), then rules: header (0x80 deny | 1 read | 2 write | 4 delegate), varint length, postfix code.
const hexCase = (name: string, hex: string | Fragment[], expect: Expectation): void => add({ name: `bytecode: ${name}`, hex, expect });
hexCase('valid hand-written program', '010103101140', allow(1));
hexCase('valid deny rule', '01810102', deny('rule 1 denies read', 1));
hexCase('empty program', '', error('EMPTY_PROGRAM'));
hexCase('unknown format version', '02010102', error('UNSUPPORTED_VERSION'));
hexCase('version zero', '00010102', error('UNSUPPORTED_VERSION'));
hexCase('version byte only', '01', error('NO_RULES'));
hexCase('rule header without actions', '01000102', error('BAD_RULE_HEADER'));
hexCase('rule header with a reserved bit', '01090102', error('BAD_RULE_HEADER'));
hexCase('trailing byte read as a rule header', '0101010240', error('BAD_RULE_HEADER'));
hexCase('empty condition', '010100', error('BAD_EXPRESSION'));
hexCase('rule longer than the program', '01010502', error('TRUNCATED'));
hexCase('rule length cut off', '010180', error('TRUNCATED'));
hexCase('rule length not in shortest form', '0101810002', error('NON_CANONICAL'));
hexCase('unknown opcode', '010101ff', error('UNKNOWN_OPCODE'));
hexCase('opcode from a future version', '01010107', error('UNKNOWN_OPCODE'));
hexCase('two values left', '0101020202', error('BAD_EXPRESSION'));
hexCase('condition is an integer', '0101020301', error('BAD_EXPRESSION'));
hexCase('integer cut off', '01010103', error('TRUNCATED'));
hexCase('integer not in shortest form', '01010603800003004' + '0', error('NON_CANONICAL'));
hexCase('negative zero', '010105040003004' + '0', error('NON_CANONICAL'));
hexCase('integer above 2^53 - 1', '01010c0380808080808080100300' + '40', error('INTEGER_OUT_OF_RANGE'));
hexCase('integer varint longer than 8 bytes', '01010d038080808080808080010300' + '40', error('INTEGER_OUT_OF_RANGE'));
hexCase('largest integer', '01010c03ffffffffffffff0f0300' + '41', allow(1));
hexCase('string cut off', '0101051505034142' + '40', error('TRUNCATED'));
hexCase('string of invalid UTF-8', '010106150502' + '41ff40', error('INVALID_STRING'));
hexCase('overlong UTF-8', '010106150502' + 'c08040', error('INVALID_STRING'));
hexCase('UTF-8 surrogate', '0101071505' + '03eda080' + '40', error('INVALID_STRING'));
hexCase('control character in a string', '010105150501074' + '0', error('INVALID_STRING'));
hexCase('bidi override in a string', '010107150503e280ae40', error('INVALID_STRING'));
hexCase('leading byte-order mark is kept', '010107150503efbbbf41', allow(1));
hexCase('string length of 257', ['0101', '8602', '1505', '8102', ['61', 257], '40'], error('STRING_TOO_LONG'));
hexCase('identity cut off', '010104100661' + '62', error('TRUNCATED'));
hexCase('not on an empty stack', '01010130', error('STACK_UNDERFLOW'));
hexCase('comparison with one operand', '0101020240', error('STACK_UNDERFLOW'));
hexCase('and skip of zero', '010103023100', error('BAD_JUMP'));
hexCase('and skip past the rule', '01010402310502', error('BAD_JUMP'));
// There is no backward jump to loop with; a skip as large as 2^53 - 1 cannot wrap around either.
hexCase('would run forever: skip of 2^53 - 1 trying to wrap around', '01010b' + '0231' + 'ffffffffffffff0f' + '02', error('BAD_JUMP'));
hexCase('would run forever: skip of 2^53', '01010b' + '0231' + '80808080808080' + '10' + '02', error('INTEGER_OUT_OF_RANGE'));
hexCase('and skip into the middle of an instruction', '0101060231010301' + '40', error('BAD_JUMP'));
hexCase('and skip over two values', '01010602310202024' + '0', error('BAD_JUMP'));
hexCase('inner skip past the outer operand', '010109' + '023103023103020202', error('BAD_JUMP'));
hexCase('right operand reaching below its floor', '01010502023101' + '40', error('STACK_UNDERFLOW'));
hexCase('or of an integer', '010105' + '0301320102', error('TYPE_MISMATCH'));
hexCase('right operand of and is an integer', '010105' + '0231020301', error('TYPE_MISMATCH'));
hexCase('comparing an integer with a string', '010106' + '030105014140', error('TYPE_MISMATCH'));
hexCase('granted with swapped arguments', '0101031210' + '23', error('TYPE_MISMATCH'));
hexCase('ordering of booleans', '010103020242', error('TYPE_MISMATCH'));
hexCase('list of zero elements', '0101031346' + '00', error('EMPTY_LIST'));
hexCase('list of 65 elements', ['0101', '8501', '134641', ['0300', 65]], error('LIST_TOO_LONG'));
hexCase('list element that is not a literal', '01010413460110', error('BAD_EXPRESSION'));
hexCase('list element of the wrong type', '01010413460102', error('TYPE_MISMATCH'));
hexCase('list cut off', '0101051346020300', error('TRUNCATED'));
hexCase('stack of 32 booleans folded by and-free equality', ['0101', '3f', ['02', 32], ['40', 31]], allow(1));
hexCase('stack of 33 booleans', ['0101', '41', ['02', 33], ['40', 32]], error('STACK_OVERFLOW'));
hexCase('63 nots (depth 64)', ['0101', '40', '02', ['30', 63]], { decision: 'deny', reason: 'no rule allows read', rule: null });
hexCase('64 nots (depth 65)', ['0101', '41', '02', ['30', 64]], error('NESTING_TOO_DEEP'));
hexCase('64 rules', ['01', ['010101', 63], '010102'], allow(64));
hexCase('65 rules', ['01', ['010102', 65]], error('TOO_MANY_RULES'));
hexCase('program of 4097 bytes', ['01', ['8101', 2048]], error('PROGRAM_TOO_LARGE'));
hexCase('program of exactly 4096 bytes passes the size check', ['01', '010102', ['810101', 1364]], error('TOO_MANY_RULES'));

// ---------------------------------------------------------------- contexts
const ctx = (name: string, w: Record<string, unknown>): void => add({ name: `context: ${name}`, source: 'allow read if true', with: w, expect: error('INVALID_CONTEXT') });
ctx('uppercase identity', { requester: PATIENT.toUpperCase() });
ctx('short identity', { owner: 'aa' });
ctx('unknown action', { action: 'erase' });
ctx('negative time', { time: -1 });
ctx('fractional height', { height: 1.5 });
ctx('time above 2^53 - 1', { time: MAX + 1 });
ctx('emergency as a string', { emergency: 'yes' });
ctx('unknown field', { reason: 'because' });
ctx('unknown role', { roles: { [DOCTOR]: 'nurse' } });
ctx('grant with an unknown scope', { grants: { [DOCTOR]: { scope: ['admin'], expiresAt: LATER } } });
ctx('attestation without expiry', { attestations: { [DOCTOR]: [{ hospital: HOSPITAL }] } });
ctx('map keyed by a non-identity', { roles: { doctor: 'doctor' } });
add({ name: 'context: minimal context with defaults', source: 'allow read if purpose == "" and not emergency and role(requester) == "none"', context: { requester: STRANGER, owner: PATIENT, action: 'read', height: 0, time: 0 }, expect: allow(1) });

const file = {
  description:
    'Known-answer vectors for the medchain permission-script engine (src/script, docs/policy-language.md). Generated by test/unit/script/makePolicyVectors.ts; checked by test/unit/script/policyVectors.test.ts.',
  format: {
    source: 'policy source text, or a list of fragments: a string, or [string, n] for n copies',
    hex: 'bytecode in hex instead of source (same fragment notation)',
    flags: '"none" (default), "current", a list of PolicyFlag names, or raw bits; used to check and evaluate',
    compileFlags: 'flags for compiling when they differ from flags',
    context: 'name of an entry of contexts, or a JSON context (contextFromJson); default "world"',
    with: 'fields that replace the context fields of the same name',
    program: 'expected compiled bytecode in hex',
    programSize: 'expected compiled size in bytes',
    expect:
      '{decision: allow, rule?, steps?} | {decision: deny, reason, rule?} | {decision: error, code} (contextFromJson failures count as error INVALID_CONTEXT) | {compileError: code, line, column}',
  },
  contexts: { world: WORLD },
  cases,
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const target = fileURLToPath(new URL('../../vectors/policy-vectors.json', import.meta.url));
  writeFileSync(target, JSON.stringify(file, null, 1) + '\n');
  console.log(`wrote ${cases.length} cases to ${target}`);
}
