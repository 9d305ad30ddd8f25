/**
 * Decrypted FHIR R4 content as plain text for people: a Bundle's resources, grouped (patient, conditions,
 * allergies, medications, observations, other), each with a title, badges and label/value rows.
 *
 * Pure and string-only: the input is hostile (any JSON a patient or another system wrote) and the output is
 * strings the page renders as text nodes, never as markup. Unknown resources become a flattened key/value list,
 * bounded in depth and length, so nothing in a record is hidden and nothing in it can blow up the page.
 */
import type { Tone } from './tone.ts';

type Json = Record<string, unknown>;

export interface Badge {
  readonly text: string;
  readonly tone: Tone;
}

export interface ResourceView {
  /** The resourceType as written ('' when missing). */
  readonly type: string;
  readonly group: GroupName;
  readonly title: string;
  readonly badges: readonly Badge[];
  readonly fields: readonly (readonly [label: string, value: string])[];
  readonly notes: readonly string[];
}

export type GroupName = 'patient' | 'conditions' | 'allergies' | 'medications' | 'observations' | 'other';

export const GROUP_TITLES: Readonly<Record<GroupName, string>> = {
  patient: 'Patient',
  conditions: 'Conditions',
  allergies: 'Allergies and intolerances',
  medications: 'Medications',
  observations: 'Observations and results',
  other: 'Other information',
};

const GROUP_ORDER: readonly GroupName[] = ['patient', 'conditions', 'allergies', 'medications', 'observations', 'other'];

/** At most this many resources are shown; the rest are counted. */
export const MAX_RESOURCES = 500;
/** At most this many rows for one unknown resource. */
export const MAX_GENERIC_ROWS = 80;
const MAX_TEXT = 2_000;
const MAX_DEPTH = 6;

export interface BundleView {
  readonly bundleType: string;
  readonly timestamp: string;
  readonly groups: readonly { readonly group: GroupName; readonly title: string; readonly views: readonly ResourceView[] }[];
  readonly total: number;
  /** Resources beyond MAX_RESOURCES, not shown. */
  readonly omitted: number;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
}

/** A scalar as text, cut to a sane length; '' for anything else. */
export function text(value: unknown): string {
  if (typeof value === 'string') return value.length > MAX_TEXT ? `${value.slice(0, MAX_TEXT)}…` : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return '';
}

function join(parts: readonly string[], separator = ', '): string {
  return parts.filter((p) => p !== '').join(separator);
}

/** "http://snomed.info/sct" -> "SNOMED CT", for a code shown without a display. */
function systemName(system: string): string {
  const known: Record<string, string> = {
    'http://snomed.info/sct': 'SNOMED CT',
    'http://loinc.org': 'LOINC',
    'http://www.nlm.nih.gov/research/umls/rxnorm': 'RxNorm',
    'http://hl7.org/fhir/sid/icd-10': 'ICD-10',
    'http://hl7.org/fhir/sid/icd-10-cm': 'ICD-10-CM',
    'http://unitsofmeasure.org': 'UCUM',
  };
  return known[system] ?? '';
}

export function coding(value: unknown): string {
  if (!isObject(value)) return '';
  const display = text(value.display);
  if (display !== '') return display;
  const code = text(value.code);
  if (code === '') return '';
  const system = systemName(text(value.system));
  return system === '' ? code : `${system} ${code}`;
}

/** A CodeableConcept as people read it: its text, else its first coding's display, else the code. */
export function codeable(value: unknown): string {
  if (typeof value === 'string') return text(value);
  if (!isObject(value)) return '';
  const own = text(value.text);
  if (own !== '') return own;
  for (const c of list(value.coding)) {
    const shown = coding(c);
    if (shown !== '') return shown;
  }
  return '';
}

export function quantity(value: unknown): string {
  if (!isObject(value)) return '';
  const amount = text(value.value);
  const unit = text(value.unit) || text(value.code);
  return join([`${text(value.comparator)}${amount}`, unit], ' ');
}

function range(value: unknown): string {
  if (!isObject(value)) return '';
  const low = quantity(value.low);
  const high = quantity(value.high);
  if (low !== '' && high !== '') return `${low} – ${high}`;
  if (low !== '') return `at least ${low}`;
  if (high !== '') return `at most ${high}`;
  return text(value.text);
}

function ratio(value: unknown): string {
  if (!isObject(value)) return '';
  const n = quantity(value.numerator);
  const d = quantity(value.denominator);
  return n === '' ? '' : d === '' ? n : `${n} / ${d}`;
}

const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' });

/** A FHIR date or dateTime, readable; partial dates (2015, 2015-06) and anything odd are shown as written. */
export function fhirDate(value: unknown): string {
  const raw = text(value);
  if (/^\d{4}-\d{2}-\d{2}$/.test(raw)) {
    const ms = Date.parse(`${raw}T00:00:00Z`);
    return Number.isNaN(ms) ? raw : dateFormat.format(ms);
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(raw)) {
    const ms = Date.parse(raw);
    return Number.isNaN(ms) ? raw : dateTimeFormat.format(ms);
  }
  return raw;
}

function period(value: unknown): string {
  if (!isObject(value)) return '';
  const start = fhirDate(value.start);
  const end = fhirDate(value.end);
  if (start !== '' && end !== '') return `${start} – ${end}`;
  if (start !== '') return `since ${start}`;
  if (end !== '') return `until ${end}`;
  return '';
}

export function humanName(value: unknown): string {
  if (!isObject(value)) return '';
  const own = text(value.text);
  if (own !== '') return own;
  return join([...list(value.prefix).map(text), ...list(value.given).map(text), text(value.family), ...list(value.suffix).map(text)], ' ');
}

function address(value: unknown): string {
  if (!isObject(value)) return '';
  const own = text(value.text);
  if (own !== '') return own;
  return join([...list(value.line).map(text), join([text(value.postalCode), text(value.city)], ' '), text(value.state), text(value.country)]);
}

function annotation(value: unknown): string {
  return isObject(value) ? text(value.text) : '';
}

/**
 * A choice element (`value[x]`, `onset[x]`, `effective[x]`, ...) as text, whichever type it was written as.
 * `resolve` turns a Reference into what it points to in the same bundle.
 */
export function choice(resource: Json, prefix: string, resolve: Resolver = () => undefined): string {
  for (const [key, value] of Object.entries(resource)) {
    if (!key.startsWith(prefix) || key.length === prefix.length) continue;
    const kind = key.slice(prefix.length);
    if (!/^[A-Z]/.test(kind)) continue;
    switch (kind) {
      case 'Quantity':
      case 'Age':
      case 'Duration':
      case 'Count':
      case 'Distance':
      case 'SimpleQuantity':
        return quantity(value);
      case 'CodeableConcept':
        return codeable(value);
      case 'Coding':
        return coding(value);
      case 'Range':
        return range(value);
      case 'Ratio':
        return ratio(value);
      case 'Period':
        return period(value);
      case 'DateTime':
      case 'Date':
      case 'Instant':
        return fhirDate(value);
      case 'Reference':
        return reference(value, resolve);
      case 'String':
      case 'Markdown':
      case 'Code':
      case 'Uri':
      case 'Url':
      case 'Id':
      case 'Time':
      case 'Integer':
      case 'Decimal':
      case 'PositiveInt':
      case 'UnsignedInt':
      case 'Boolean':
        return text(value);
      case 'SampledData':
        return 'sampled data (not shown)';
      case 'Attachment':
        return isObject(value) ? join([text(value.title), text(value.contentType)], ' · ') || 'an attachment' : '';
      default:
        return flattenScalar(value);
    }
  }
  return '';
}

function flattenScalar(value: unknown): string {
  if (isObject(value)) return join(Object.values(value).map(text));
  return text(value);
}

/** A bundle-local lookup: a reference string (fullUrl or Type/id) to the resource it names. */
export type Resolver = (reference: string) => Json | undefined;

export function reference(value: unknown, resolve: Resolver = () => undefined): string {
  if (!isObject(value)) return '';
  const display = text(value.display);
  if (display !== '') return display;
  const target = typeof value.reference === 'string' ? resolve(value.reference) : undefined;
  if (target !== undefined) {
    const name = target.resourceType === 'Patient' || target.resourceType === 'Practitioner' ? humanName(list(target.name)[0]) : codeable(target.code);
    if (name !== '') return name;
  }
  return text(value.reference);
}

function statusBadge(status: string, tones: Readonly<Record<string, Tone>> = {}): Badge[] {
  return status === '' ? [] : [{ text: status, tone: tones[status] ?? 'neutral' }];
}

const INTERPRETATION_TONES: Readonly<Record<string, Tone>> = { H: 'warn', HH: 'bad', HU: 'bad', L: 'warn', LL: 'bad', LU: 'bad', A: 'warn', AA: 'bad', N: 'good' };

function fields(rows: readonly (readonly [string, string])[]): (readonly [string, string])[] {
  return rows.filter(([, value]) => value !== '');
}

function notes(resource: Json): string[] {
  return list(resource.note).map(annotation).filter((n) => n !== '');
}

function viewPatient(r: Json): ResourceView {
  const names = list(r.name).map(humanName).filter((n) => n !== '');
  const telecom = list(r.telecom).filter(isObject);
  const contact = (system: string) => join(telecom.filter((t) => t.system === system).map((t) => text(t.value)));
  return {
    type: 'Patient',
    group: 'patient',
    title: names[0] ?? 'Patient (no name given)',
    badges: r.deceasedBoolean === true || r.deceasedDateTime !== undefined ? [{ text: 'deceased', tone: 'neutral' }] : [],
    fields: fields([
      ['Other names', join(names.slice(1))],
      ['Born', fhirDate(r.birthDate)],
      ['Gender', text(r.gender)],
      ['Phone', contact('phone')],
      ['Email', contact('email')],
      ['Address', join(list(r.address).map(address), '; ')],
      ['Identifiers', join(list(r.identifier).filter(isObject).map((i) => text(i.value)))],
      ['Died', fhirDate(r.deceasedDateTime)],
    ]),
    notes: [],
  };
}

function viewCondition(r: Json): ResourceView {
  const clinical = codeable(r.clinicalStatus);
  const verification = codeable(r.verificationStatus);
  return {
    type: 'Condition',
    group: 'conditions',
    title: codeable(r.code) || 'Condition (no code given)',
    badges: [
      ...statusBadge(clinical, { active: 'warn', recurrence: 'warn', relapse: 'warn', resolved: 'good', remission: 'good', inactive: 'neutral' }),
      ...(verification !== '' && verification !== 'confirmed' ? [{ text: verification, tone: 'info' as Tone }] : []),
      ...(codeable(r.severity) === '' ? [] : [{ text: codeable(r.severity), tone: 'info' as Tone }]),
    ],
    fields: fields([
      ['Since', choice(r, 'onset')],
      ['Ended', choice(r, 'abatement')],
      ['Recorded', fhirDate(r.recordedDate)],
      ['Category', join(list(r.category).map(codeable))],
      ['Body site', join(list(r.bodySite).map(codeable))],
    ]),
    notes: notes(r),
  };
}

function viewObservation(r: Json, resolve: Resolver): ResourceView {
  const components = list(r.component)
    .filter(isObject)
    .map((c) => join([codeable(c.code), choice(c, 'value', resolve)], ': '))
    .filter((c) => c !== '');
  const interpretations = list(r.interpretation).filter(isObject);
  const status = text(r.status);
  return {
    type: 'Observation',
    group: 'observations',
    title: codeable(r.code) || 'Observation (no code given)',
    badges: [
      ...interpretations.map((i) => {
        const code = text(list(i.coding).filter(isObject)[0]?.code);
        return { text: codeable(i) || code, tone: INTERPRETATION_TONES[code] ?? ('info' as Tone) };
      }),
      ...(status !== '' && status !== 'final' ? [{ text: status, tone: 'neutral' as Tone }] : []),
    ],
    fields: fields([
      ['Result', choice(r, 'value', resolve) || (r.dataAbsentReason === undefined ? '' : `not available (${codeable(r.dataAbsentReason)})`)],
      ['Parts', join(components, '; ')],
      ['When', choice(r, 'effective')],
      ['Normal range', join(list(r.referenceRange).map(range), '; ')],
      ['Category', join(list(r.category).map(codeable))],
      ['Performed by', join(list(r.performer).map((p) => reference(p, resolve)))],
    ]),
    notes: notes(r),
  };
}

function dosage(value: unknown): string {
  if (!isObject(value)) return '';
  const own = text(value.text) || text(value.patientInstruction);
  if (own !== '') return own;
  const dose = list(value.doseAndRate).filter(isObject).map((d) => choice(d, 'dose'));
  return join([...dose, codeable(value.route)], ' ');
}

function viewMedication(r: Json, resolve: Resolver): ResourceView {
  const request = r.resourceType === 'MedicationRequest';
  const status = text(r.status);
  return {
    type: text(r.resourceType),
    group: 'medications',
    title: choice(r, 'medication', resolve) || 'Medication (not named)',
    badges: [
      ...statusBadge(status, { active: 'good', completed: 'neutral', stopped: 'neutral', 'on-hold': 'warn', 'entered-in-error': 'bad' }),
      ...(request ? [{ text: text(r.intent) === 'order' ? 'prescription' : text(r.intent) || 'request', tone: 'info' as Tone }] : []),
    ],
    fields: fields([
      ['Dose', join(list(request ? r.dosageInstruction : r.dosage).map(dosage), '; ')],
      ['Taken', request ? '' : choice(r, 'effective')],
      ['Prescribed', request ? fhirDate(r.authoredOn) : ''],
      ['Prescribed by', request ? reference(r.requester, resolve) : ''],
      ['Reason', join([...list(r.reasonCode).map(codeable), ...list(r.reasonReference).map((x) => reference(x, resolve))])],
    ]),
    notes: notes(r),
  };
}

function viewAllergy(r: Json): ResourceView {
  const criticality = text(r.criticality);
  const clinical = codeable(r.clinicalStatus);
  const reactions = list(r.reaction)
    .filter(isObject)
    .map((x) => join([join(list(x.manifestation).map(codeable)), text(x.severity) === '' ? '' : `(${text(x.severity)})`, text(x.description)], ' '));
  return {
    type: 'AllergyIntolerance',
    group: 'allergies',
    title: codeable(r.code) || 'Allergy (substance not named)',
    badges: [
      ...(criticality === 'high' ? [{ text: 'high risk', tone: 'bad' as Tone }] : criticality === 'low' ? [{ text: 'low risk', tone: 'neutral' as Tone }] : []),
      ...statusBadge(clinical, { active: 'warn', inactive: 'neutral', resolved: 'good' }),
    ],
    fields: fields([
      ['Reactions', join(reactions, '; ')],
      ['Kind', join([text(r.type), ...list(r.category).map(text)])],
      ['Since', choice(r, 'onset')],
      ['Recorded', fhirDate(r.recordedDate)],
    ]),
    notes: notes(r),
  };
}

/**
 * Any resource as rows of `path: value`, depth- and length-bounded. The narrative (`text.div`) is XHTML
 * written for display by another system; it is left out rather than shown as markup or parsed.
 */
export function genericRows(resource: Json, limit = MAX_GENERIC_ROWS): (readonly [string, string])[] {
  const rows: (readonly [string, string])[] = [];
  let dropped = 0;
  const walk = (value: unknown, path: string, depth: number): void => {
    if (rows.length >= limit) {
      dropped++;
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((item, i) => walk(item, value.length === 1 ? path : `${path} ${i + 1}`, depth + 1));
      return;
    }
    if (isObject(value)) {
      if (depth >= MAX_DEPTH) {
        rows.push([path, '…']);
        return;
      }
      for (const [key, child] of Object.entries(value)) {
        if (path === '' && (key === 'resourceType' || key === 'meta')) continue;
        if (path === '' && key === 'text' && isObject(child)) continue;
        walk(child, path === '' ? key : `${path} › ${key}`, depth + 1);
      }
      return;
    }
    const shown = text(value);
    if (shown !== '') rows.push([path, shown]);
  };
  walk(resource, '', 0);
  if (dropped > 0) rows.push(['…', `${dropped} more value${dropped === 1 ? '' : 's'} not shown`]);
  return rows;
}

function viewOther(r: Json): ResourceView {
  const type = text(r.resourceType) || 'Resource';
  // A title, a code (code, vaccineCode, ...), a name, or just the type.
  const coded = Object.entries(r).find(([key, value]) => /^[a-z]*Code$/.test(key) && codeable(value) !== '');
  const title = text(r.title) || codeable(r.code) || (coded === undefined ? '' : codeable(coded[1])) || humanName(list(r.name)[0]) || text(r.name) || type;
  return {
    type,
    group: 'other',
    title: title === type ? type : `${type}: ${title}`,
    badges: statusBadge(text(r.status)),
    fields: genericRows(r).map(([label, value]) => [label, value] as const),
    notes: [],
  };
}

/** One resource, readable. */
export function viewResource(resource: unknown, resolve: Resolver = () => undefined): ResourceView {
  if (!isObject(resource)) return { type: '', group: 'other', title: 'An entry without a resource', badges: [], fields: [], notes: [] };
  switch (resource.resourceType) {
    case 'Patient':
      return viewPatient(resource);
    case 'Condition':
      return viewCondition(resource);
    case 'Observation':
      return viewObservation(resource, resolve);
    case 'MedicationStatement':
    case 'MedicationRequest':
      return viewMedication(resource, resolve);
    case 'AllergyIntolerance':
      return viewAllergy(resource);
    default:
      return viewOther(resource);
  }
}

/** A parsed FHIR JSON document (a Bundle, or a single resource) as groups of readable resources. */
export function viewBundle(json: unknown): BundleView {
  const root = isObject(json) ? json : {};
  const isBundle = root.resourceType === 'Bundle';
  const entries = isBundle ? list(root.entry).filter(isObject) : [{ resource: root }];
  const byRef = new Map<string, Json>();
  for (const entry of entries) {
    const resource = entry.resource;
    if (!isObject(resource)) continue;
    if (typeof entry.fullUrl === 'string') byRef.set(entry.fullUrl, resource);
    if (typeof resource.resourceType === 'string' && typeof resource.id === 'string') byRef.set(`${resource.resourceType}/${resource.id}`, resource);
  }
  const resolve: Resolver = (ref) => byRef.get(ref);
  const shown = entries.slice(0, MAX_RESOURCES);
  const views = shown.map((entry) => viewResource(entry.resource, resolve));
  return {
    bundleType: isBundle ? text(root.type) : '',
    timestamp: isBundle ? fhirDate(root.timestamp) : '',
    groups: GROUP_ORDER.map((group) => ({ group, title: GROUP_TITLES[group], views: views.filter((v) => v.group === group) })).filter((g) => g.views.length > 0),
    total: entries.length,
    omitted: entries.length - shown.length,
  };
}
