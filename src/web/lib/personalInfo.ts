/**
 * The patient's personal information (name, birth date, contact) as a FHIR R4 Bundle holding one Patient
 * resource: a record like any other, encrypted in the browser, readable only by the patient and whom they
 * share it with. Pure: builds the bundle from the form and reads the form back from a bundle.
 */

export interface PersonalInfo {
  readonly name: string;
  /** YYYY-MM-DD, or '' when not given. */
  readonly birthDate: string;
  readonly phone: string;
  readonly email: string;
  readonly address: string;
}

export const EMPTY_PERSONAL_INFO: PersonalInfo = { name: '', birthDate: '', phone: '', email: '', address: '' };

export const PERSONAL_INFO_LIMITS = { name: 200, phone: 64, email: 254, address: 500 } as const;

/** What is wrong with the form, field by field; empty when it can be saved. */
export function personalInfoProblems(info: PersonalInfo, today: string): Partial<Record<keyof PersonalInfo, string>> {
  const problems: Partial<Record<keyof PersonalInfo, string>> = {};
  if (info.name.trim() === '') problems.name = 'Enter your name.';
  else if (info.name.length > PERSONAL_INFO_LIMITS.name) problems.name = `At most ${PERSONAL_INFO_LIMITS.name} characters.`;
  if (info.birthDate !== '') {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(info.birthDate) || Number.isNaN(Date.parse(`${info.birthDate}T00:00:00Z`))) problems.birthDate = 'Enter a date like 1980-04-23.';
    else if (info.birthDate > today) problems.birthDate = 'Your birth date cannot be in the future.';
    else if (info.birthDate < '1880-01-01') problems.birthDate = 'Check the year.';
  }
  if (info.phone.length > PERSONAL_INFO_LIMITS.phone) problems.phone = `At most ${PERSONAL_INFO_LIMITS.phone} characters.`;
  else if (info.phone.trim() !== '' && !/^[+\d][\d\s().-]{2,}$/.test(info.phone.trim())) problems.phone = 'Use digits, spaces and an optional leading +.';
  if (info.email.length > PERSONAL_INFO_LIMITS.email) problems.email = `At most ${PERSONAL_INFO_LIMITS.email} characters.`;
  else if (info.email.trim() !== '' && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(info.email.trim())) problems.email = 'That does not look like an email address.';
  if (info.address.length > PERSONAL_INFO_LIMITS.address) problems.address = `At most ${PERSONAL_INFO_LIMITS.address} characters.`;
  return problems;
}

/** The form as a FHIR R4 collection Bundle with one Patient (empty fields are left out). */
export function personalInfoBundle(info: PersonalInfo, nowIso: string): Record<string, unknown> {
  const telecom = [
    ...(info.phone.trim() === '' ? [] : [{ system: 'phone', value: info.phone.trim() }]),
    ...(info.email.trim() === '' ? [] : [{ system: 'email', value: info.email.trim() }]),
  ];
  const patient: Record<string, unknown> = {
    resourceType: 'Patient',
    name: [{ use: 'usual', text: info.name.trim() }],
    ...(telecom.length === 0 ? {} : { telecom }),
    ...(info.birthDate === '' ? {} : { birthDate: info.birthDate }),
    ...(info.address.trim() === '' ? {} : { address: [{ use: 'home', text: info.address.trim() }] }),
  };
  return { resourceType: 'Bundle', type: 'collection', timestamp: nowIso, entry: [{ resource: patient }] };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** The form read back from a bundle's first Patient (any FHIR Patient, not only ones this app wrote); null if none. */
export function personalInfoFrom(json: unknown): PersonalInfo | null {
  if (!isObject(json)) return null;
  const resources = json.resourceType === 'Bundle' ? (Array.isArray(json.entry) ? json.entry : []).map((e) => (isObject(e) ? e.resource : undefined)) : [json];
  const patient = resources.find((r): r is Record<string, unknown> => isObject(r) && r.resourceType === 'Patient');
  if (patient === undefined) return null;
  const name = (Array.isArray(patient.name) ? patient.name : []).find(isObject);
  const nameText = name === undefined ? '' : str(name.text) || [...(Array.isArray(name.given) ? name.given.map(str) : []), str(name.family)].filter((p) => p !== '').join(' ');
  const telecom = (Array.isArray(patient.telecom) ? patient.telecom : []).filter(isObject);
  const address = (Array.isArray(patient.address) ? patient.address : []).find(isObject);
  const addressText =
    address === undefined ? '' : str(address.text) || [...(Array.isArray(address.line) ? address.line.map(str) : []), str(address.postalCode), str(address.city), str(address.country)].filter((p) => p !== '').join(', ');
  return {
    name: nameText,
    birthDate: /^\d{4}-\d{2}-\d{2}$/.test(str(patient.birthDate)) ? str(patient.birthDate) : '',
    phone: str(telecom.find((t) => t.system === 'phone')?.value),
    email: str(telecom.find((t) => t.system === 'email')?.value),
    address: addressText,
  };
}
