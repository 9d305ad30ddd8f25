// The dashboards' pure parts: decrypted FHIR as readable text (hostile input included), the personal
// information record, record names kept in the browser, the access log's sentences, and action progress.

import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadFhirR4Definitions, validateFhirBundle } from '../../../src/client/fhir.ts';
import { nextStep, type StepDef } from '../../../src/web/lib/steps.ts';
import { buildTimeline, describeItem, expiryText, purposeText, scopeText, type AuditEntryJson, type AuditTrailJson } from '../../../src/web/lib/accessLog.ts';
import { codeable, fhirDate, genericRows, MAX_GENERIC_ROWS, quantity, viewBundle, viewResource } from '../../../src/web/lib/fhirDisplay.ts';
import { NO_EXPIRY_MS } from '../../../src/web/lib/format.ts';
import { EMPTY_PERSONAL_INFO, personalInfoBundle, personalInfoFrom, personalInfoProblems } from '../../../src/web/lib/personalInfo.ts';
import { defaultLabel, downloadName, kindOf, RECORD_LABELS_KEY, RecordLabels } from '../../../src/web/lib/recordLabels.ts';
import { attestationValid, nameOf } from '../../../src/web/pages/dashboards/api.ts';
import { endOfDay } from '../../../src/web/lib/dates.ts';
import { fixture, r4Definitions } from '../client/fhirSupport.ts';

const markupFixture = (): unknown => JSON.parse(readFileSync(new URL('../../fixtures/fhir/markup-in-text.json', import.meta.url), 'utf8'));

beforeAll(() => loadFhirR4Definitions(r4Definitions()));

describe('FHIR for people', () => {
  it('the markup fixture is a valid R4 bundle, and its markup comes out as plain strings', () => {
    const json = markupFixture();
    expect(validateFhirBundle(json)).toMatchObject({ ok: true, summary: { type: 'collection', entryCount: 5 } });
    const view = viewBundle(json);
    expect(view.groups.map((g) => g.group)).toEqual(['patient', 'conditions', 'allergies', 'medications', 'observations']);
    const byGroup = Object.fromEntries(view.groups.map((g) => [g.group, g.views[0]!]));
    expect(byGroup.patient).toMatchObject({ title: 'Zephyrine Quillfeather' });
    expect(byGroup.patient!.fields).toContainEqual(['Phone', '+44 20 7946 0321']);
    expect(byGroup.conditions).toMatchObject({ title: 'Asthma <img src=x onerror=alert(1)>', notes: ['<script>alert(1)</script> Wheezing at night, worse in spring.'] });
    expect(byGroup.conditions!.badges).toEqual([{ text: 'active', tone: 'warn' }]);
    expect(byGroup.conditions!.fields).toContainEqual(['Since', '2001-05']);
    expect(byGroup.allergies).toMatchObject({ title: 'Penicillin', badges: [{ text: 'high risk', tone: 'bad' }, { text: 'active', tone: 'warn' }] });
    expect(byGroup.allergies!.fields).toContainEqual(['Reactions', 'Hives (moderate)']);
    expect(byGroup.medications).toMatchObject({ title: 'Salbutamol 100 micrograms inhaler' });
    expect(byGroup.medications!.fields).toContainEqual(['Dose', 'Two puffs when needed']);
    expect(byGroup.observations).toMatchObject({ title: 'Peak flow' });
    expect(byGroup.observations!.fields).toContainEqual(['Result', '410 L/min']);
    // Everything shown is a string (rendered as a text node), never an element or a function.
    for (const g of view.groups) for (const v of g.views) for (const [k, value] of v.fields) expect([typeof k, typeof value]).toEqual(['string', 'string']);
  });

  it.each(['patient-summary-collection', 'ips-document', 'synthea-transaction', 'everything-searchset'] as const)('%s: every entry is shown', (name) => {
    const json = fixture(name);
    const view = viewBundle(json);
    expect(view.total).toBe((json.entry as unknown[]).length);
    expect(view.groups.reduce((n, g) => n + g.views.length, 0)).toBe(view.total);
    for (const g of view.groups) for (const v of g.views) expect(v.title).not.toBe('');
  });

  it('observations: interpretation, reference range, components; references resolve inside the bundle', () => {
    const view = viewBundle(fixture('patient-summary-collection'));
    const hba1c = view.groups.find((g) => g.group === 'observations')!.views.find((v) => v.title === 'HbA1c')!;
    expect(hba1c.badges).toContainEqual({ text: 'High', tone: 'warn' });
    expect(hba1c.fields).toContainEqual(['Normal range', '4 % – 6 %']);
    const med = viewResource(
      { resourceType: 'MedicationRequest', status: 'active', intent: 'order', medicationReference: { reference: 'Medication/m1' }, dosageInstruction: [{ text: '1 daily' }] },
      (ref) => (ref === 'Medication/m1' ? { resourceType: 'Medication', code: { text: 'Metformin 500 mg' } } : undefined),
    );
    expect(med).toMatchObject({ group: 'medications', title: 'Metformin 500 mg', badges: [{ text: 'active', tone: 'good' }, { text: 'prescription', tone: 'info' }] });
  });

  it('hostile or odd input never throws and never leaks objects into text', () => {
    for (const input of [null, 42, 'x', [], { resourceType: 'Bundle', entry: 'nope' }, { resourceType: 'Bundle', entry: [null, 1, { resource: [] }] }, { resourceType: 'Observation', valueQuantity: { value: {} } }]) {
      expect(() => viewBundle(input)).not.toThrow();
    }
    expect(codeable({ coding: [{ system: 'http://snomed.info/sct', code: '123' }] })).toBe('SNOMED CT 123');
    expect(quantity({ value: 5, comparator: '<', unit: 'mg' })).toBe('<5 mg');
    expect(fhirDate('2015-06')).toBe('2015-06');
    expect(fhirDate('not a date <b>')).toBe('not a date <b>');
    expect(fhirDate('1961-03-12')).toMatch(/1961/);
  });

  it('unknown resources become a bounded key/value list without the HTML narrative', () => {
    const rows = genericRows({ resourceType: 'Immunization', status: 'completed', text: { status: 'generated', div: '<div><script>x</script></div>' }, vaccineCode: { text: 'Influenza' }, protocolApplied: [{ doseNumberPositiveInt: 2 }] });
    expect(rows).toEqual([
      ['status', 'completed'],
      ['vaccineCode › text', 'Influenza'],
      ['protocolApplied › doseNumberPositiveInt', '2'],
    ]);
    const huge = { resourceType: 'Basic', values: Array.from({ length: 500 }, (_, i) => i) };
    const capped = genericRows(huge);
    expect(capped).toHaveLength(MAX_GENERIC_ROWS + 1);
    expect(capped.at(-1)).toEqual(['…', '420 more values not shown']);
    const deep: Record<string, unknown> = { resourceType: 'Basic' };
    let node = deep;
    for (let i = 0; i < 50; i++) node = node.child = {} as Record<string, unknown>;
    expect(() => genericRows(deep)).not.toThrow();
    expect(viewResource({ resourceType: 'Immunization', vaccineCode: { text: 'Influenza' } }).title).toBe('Immunization: Influenza');
  });
});

describe('personal information', () => {
  const info = { name: 'Marguerite Okonkwo-Lindqvist', birthDate: '1979-11-02', phone: '+46 8 555 012 34', email: 'm.ol@example.org', address: 'Storgatan 1, Stockholm' };

  it('is a valid FHIR R4 bundle with one Patient, and reads back the same', () => {
    const bundle = personalInfoBundle(info, '2026-01-01T00:00:00.000Z');
    expect(validateFhirBundle(bundle)).toMatchObject({ ok: true, summary: { resourceTypes: { Patient: 1 } } });
    expect(personalInfoFrom(JSON.parse(JSON.stringify(bundle)))).toEqual(info);
    const minimal = personalInfoBundle({ ...EMPTY_PERSONAL_INFO, name: 'A B' }, '2026-01-01T00:00:00.000Z');
    expect(validateFhirBundle(minimal).ok).toBe(true);
    expect(personalInfoFrom(minimal)).toEqual({ ...EMPTY_PERSONAL_INFO, name: 'A B' });
  });

  it('reads any Patient (given/family names, address lines); null without one', () => {
    expect(personalInfoFrom(fixture('patient-summary-collection'))).toMatchObject({ name: 'Anna Maria van der Berg', birthDate: '1961-03-12', phone: '+31 20 555 0100', address: 'Keizersgracht 1, 1015 CJ, Amsterdam, NL' });
    expect(personalInfoFrom({ resourceType: 'Bundle', entry: [] })).toBeNull();
    expect(personalInfoFrom('nope')).toBeNull();
  });

  it('checks the form', () => {
    expect(personalInfoProblems(info, '2026-01-01')).toEqual({});
    expect(personalInfoProblems({ ...EMPTY_PERSONAL_INFO }, '2026-01-01')).toEqual({ name: 'Enter your name.' });
    expect(Object.keys(personalInfoProblems({ ...info, birthDate: '2030-01-01', email: 'nope', phone: 'call me' }, '2026-01-01')).sort()).toEqual(['birthDate', 'email', 'phone']);
  });
});

describe('record names kept in the browser', () => {
  const memory = (): { getItem(k: string): string | null; setItem(k: string, v: string): void; data: Map<string, string> } => {
    const data = new Map<string, string>();
    return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v) };
  };
  const A = 'a'.repeat(64);
  const B = 'b'.repeat(64);

  it('names, generated names, the personal-information record, and hostile storage', () => {
    const storage = memory();
    const labels = new RecordLabels(storage);
    expect(labels.labelOf(A, 'application/pdf')).toBe('PDF document aaaaaa');
    labels.set(A, { label: '  Blood\ntests  ' });
    labels.set(B, { label: 'Me', personal: true });
    expect(labels.labelOf(A, 'application/pdf')).toBe('Blood tests');
    expect(labels.personalRecord([A, B])).toBe(B);
    expect(labels.personalRecord([A])).toBeUndefined();
    storage.data.set(RECORD_LABELS_KEY, '{not json');
    expect(labels.get(A)).toBeUndefined();
    storage.data.set(RECORD_LABELS_KEY, JSON.stringify({ [A]: { label: 7 }, nothex: { label: 'x' }, [B]: { label: 'ok', personal: 'yes' } }));
    expect(labels.get(A)).toBeUndefined();
    expect(labels.get(B)).toEqual({ label: 'ok' });
    expect(() => labels.set('nope', { label: 'x' })).toThrow(RangeError);
  });

  it('kinds, generated names and download names', () => {
    expect(kindOf('application/fhir+json').noun).toBe('Health record');
    expect(defaultLabel(A, 'image/jpeg')).toBe('Photo aaaaaa');
    expect(downloadName(A, 0, 'application/pdf')).toBe('medchain-record-aaaaaaaa-v0.pdf');
    expect(downloadName(A, 1, 'application/pdf', '../../etc/Letter from Dr. <X>.pdf')).toBe('etc-Letter-from-Dr.-X-.pdf');
    expect(downloadName(A, 1, 'image/png', 'scan')).toBe('scan.png');
  });
});

describe('access log', () => {
  const owner = '0'.repeat(64);
  const doctor = 'd'.repeat(64);
  const record = 'e'.repeat(64);
  const base = { record, actorFingerprint: '', blockHash: '', time: 1_000, height: 1 };
  const entry = (over: Partial<AuditEntryJson> & Pick<AuditEntryJson, 'action' | 'actor' | 'txId'>): AuditEntryJson => ({ ...base, ...over });
  const trail: AuditTrailJson = {
    entries: [
      entry({ action: 'record.create', actor: owner, txId: '1', height: 1, time: 1_000 }),
      entry({ action: 'access.read', actor: owner, txId: '2', height: 2, time: 2_000, purpose: 'PATADMIN', version: 0 }),
      entry({ action: 'access.grant', actor: owner, txId: '3', height: 2, time: 2_000, grantee: doctor, scope: ['read'], expiresAt: null }),
      entry({ action: 'access.read', actor: doctor, txId: '4', height: 3, time: 3_000, purpose: 'TREAT', version: 0 }),
      entry({ action: 'access.read', actor: doctor, txId: '5', height: 4, time: 4_000, purpose: 'ETREAT', emergency: true, reason: 'Unconscious <b>' }),
      entry({ action: 'access.revoke', actor: owner, txId: '6', height: 5, time: 5_000, grantee: doctor }),
    ],
    deniedReads: [{ record, time: 6_000, requester: doctor, version: 0, purpose: 'TREAT', emergency: false, reason: '', code: 'GRANT_REVOKED' }],
  };
  const ctx = { owner, name: (id: string) => (id === doctor ? 'Dr. Demo' : id), label: () => 'Blood tests' };

  it('newest first, kinds from the trail, reads of others apart from the owner\'s own', () => {
    const items = buildTimeline(trail, owner);
    expect(items.map((i) => i.kind)).toEqual(['denied', 'revoke', 'emergency', 'read', 'grant', 'own-read', 'create']);
  });

  it('says who, what, when and why in plain words', () => {
    const text = buildTimeline(trail, owner).map((i) => describeItem(i, ctx));
    expect(text[0]).toMatchObject({ tone: 'warn', title: 'Dr. Demo tried to open “Blood tests” and was refused' });
    expect(text[0]!.detail).toMatch(/^Their access had been revoked\./);
    expect(text[1]!.title).toBe("You stopped Dr. Demo's access to “Blood tests”");
    expect(text[2]).toMatchObject({ tone: 'bad', tag: 'Emergency access', title: 'Dr. Demo used emergency access to open “Blood tests”' });
    expect(text[2]!.detail).toBe('Reason given: “Unconscious <b>”. Purpose: emergency treatment (ETREAT).');
    expect(text[3]).toMatchObject({ title: 'Dr. Demo opened “Blood tests” (version 1)', detail: 'Purpose: treatment (TREAT).' });
    expect(text[4]).toMatchObject({ title: 'You shared “Blood tests” with Dr. Demo', detail: 'They may read it, with no end date (until revoked).' });
    expect(text[5]!.title).toBe('Your browser unlocked “Blood tests” (version 1) to share it');
  });

  it('scopes, expiries and purposes', () => {
    expect(scopeText(['read', 'write'])).toBe('read it and add new versions');
    expect(scopeText(['read', 'write', 'delegate'])).toBe('read it, add new versions and share it further');
    expect(expiryText(NO_EXPIRY_MS)).toBe('with no end date (until revoked)');
    expect(expiryText(Date.UTC(2030, 0, 1))).toMatch(/^until .*2030/);
    expect(purposeText('XYZ')).toBe('XYZ');
    expect(purposeText('')).toBe('no stated purpose');
  });
});

describe('dashboard helpers', () => {
  it('attestation validity: the node\'s judgement when given, else the clock', () => {
    expect(attestationValid({ expiresAt: 10, revokedAt: null }, 5)).toBe(true);
    expect(attestationValid({ expiresAt: 10, revokedAt: null }, 10)).toBe(false);
    expect(attestationValid({ expiresAt: 10, revokedAt: 3 }, 5)).toBe(false);
    expect(attestationValid({ expiresAt: 10, revokedAt: null, valid: false }, 5)).toBe(false);
  });

  it('names accounts', () => {
    const id = 'ab'.repeat(32);
    const doctor = { id, fingerprint: '', role: 'doctor', nonce: 0, registeredAt: 1, hospitalName: null, attestations: [{ hospital: 'h', hospitalName: 'St. Mary', name: 'Dr. A', licence: 'L', expiresAt: 100, attestedAt: 1, revokedAt: null, revokeReason: '', valid: true }] };
    expect(nameOf(doctor, id, 50)).toEqual({ id, name: 'Dr. A', detail: 'St. Mary', role: 'doctor' });
    expect(nameOf({ ...doctor, attestations: [{ ...doctor.attestations[0]!, valid: false }] }, id, 50)).toMatchObject({ name: 'Dr. A', unattested: true });
    expect(nameOf(null, id, 0)).toMatchObject({ name: 'Account abab-abab-abab-abab', detail: 'not registered' });
    expect(nameOf({ ...doctor, role: 'hospital', hospitalName: 'General', attestations: [] }, id, 0).name).toBe('General');
  });

  it('dates from a date input end at the end of that local day', () => {
    const end = new Date(endOfDay('2030-06-15'));
    expect([end.getFullYear(), end.getMonth(), end.getDate(), end.getHours(), end.getMinutes()]).toEqual([2030, 5, 15, 23, 59]);
    expect(endOfDay('15/06/2030')).toBeNaN();
  });

  it('progress moves forward only, to the first step a call starts', () => {
    const steps: StepDef[] = [
      { label: 'a', methods: ['identity_get', 'emr_read'] },
      { label: 'b', methods: ['record_uploadEnvelopes'] },
      { label: 'c', methods: ['tx_submit'] },
    ];
    expect(nextStep(steps, 0, 'emr_read')).toBe(0);
    expect(nextStep(steps, 0, 'record_uploadEnvelopes')).toBe(1);
    expect(nextStep(steps, 1, 'emr_read')).toBe(1);
    expect(nextStep(steps, 1, 'identity_get')).toBe(1);
    expect(nextStep(steps, 1, 'tx_submit')).toBe(2);
  });
});
