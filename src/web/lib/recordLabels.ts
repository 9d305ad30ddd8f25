/**
 * Names people give their records ("Blood tests March 2024"), and which record holds the patient's personal
 * information. The chain knows a record only by its id and content type, and the contents are encrypted, so
 * these are kept in this browser only (never sent): another browser shows a generated name until the patient
 * names the record there too.
 *
 * Pure: works on a string storage (localStorage in the app); an unreadable or foreign entry is ignored, never
 * thrown at the page.
 */

export interface StringStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export interface RecordNote {
  readonly label: string;
  /** This record holds the owner's personal information (a FHIR Patient). */
  readonly personal?: boolean;
  /** The uploaded file's name, for downloads. */
  readonly fileName?: string;
}

export const RECORD_LABELS_KEY = 'medchain.recordLabels';
export const MAX_RECORD_LABEL = 80;
const MAX_ENTRIES = 5_000;
const HEX64 = /^[0-9a-f]{64}$/;

/** What a content type is, in words, and the file extension a download gets. */
export function kindOf(contentType: string): { readonly noun: string; readonly extension: string } {
  switch (contentType) {
    case 'application/fhir+json':
      return { noun: 'Health record', extension: 'json' };
    case 'application/pdf':
      return { noun: 'PDF document', extension: 'pdf' };
    case 'image/png':
      return { noun: 'Image', extension: 'png' };
    case 'image/jpeg':
      return { noun: 'Photo', extension: 'jpg' };
    case 'image/gif':
      return { noun: 'Image', extension: 'gif' };
    case 'image/webp':
      return { noun: 'Image', extension: 'webp' };
    case 'image/tiff':
      return { noun: 'Scan', extension: 'tiff' };
    case 'application/dicom':
      return { noun: 'Medical image (DICOM)', extension: 'dcm' };
    case 'text/plain':
      return { noun: 'Text note', extension: 'txt' };
    case 'text/csv':
      return { noun: 'Table (CSV)', extension: 'csv' };
    case 'application/xml':
      return { noun: 'XML document', extension: 'xml' };
    default:
      return { noun: 'File', extension: 'bin' };
  }
}

/** The name a record shows until someone names it: its kind and the start of its id. */
export function defaultLabel(recordId: string, contentType: string): string {
  return `${kindOf(contentType).noun} ${recordId.slice(0, 6)}`;
}

/** A safe file name for a download of a record version. */
export function downloadName(recordId: string, version: number, contentType: string, fileName?: string): string {
  const { extension } = kindOf(contentType);
  const base = (fileName ?? '').normalize('NFKD').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '').slice(0, 60);
  if (base !== '' && base.toLowerCase().endsWith(`.${extension}`)) return base;
  return `${base === '' ? `medchain-record-${recordId.slice(0, 8)}-v${version}` : base}.${extension}`;
}

function cleanLabel(label: string): string {
  // One line, no control characters, bounded.
  return label.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim().slice(0, MAX_RECORD_LABEL);
}

export class RecordLabels {
  readonly #storage: StringStorage;

  constructor(storage: StringStorage) {
    this.#storage = storage;
  }

  #read(): Record<string, RecordNote> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(this.#storage.getItem(RECORD_LABELS_KEY) ?? '{}');
    } catch {
      return {};
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
    const out: Record<string, RecordNote> = {};
    for (const [id, value] of Object.entries(parsed as Record<string, unknown>)) {
      if (!HEX64.test(id) || typeof value !== 'object' || value === null) continue;
      const { label, personal, fileName } = value as Record<string, unknown>;
      if (typeof label !== 'string') continue;
      out[id] = {
        label: cleanLabel(label),
        ...(personal === true ? { personal: true } : {}),
        ...(typeof fileName === 'string' ? { fileName: fileName.slice(0, 200) } : {}),
      };
    }
    return out;
  }

  get(recordId: string): RecordNote | undefined {
    return this.#read()[recordId];
  }

  /** The record's name here, or its generated name. */
  labelOf(recordId: string, contentType: string): string {
    const label = this.get(recordId)?.label ?? '';
    return label === '' ? defaultLabel(recordId, contentType) : label;
  }

  set(recordId: string, note: RecordNote): void {
    if (!HEX64.test(recordId)) throw new RangeError('a record id is 64 lowercase hex digits');
    const all = this.#read();
    all[recordId] = { ...note, label: cleanLabel(note.label) };
    const ids = Object.keys(all);
    // Bounded: the oldest names go first (insertion order).
    for (const id of ids.slice(0, Math.max(0, ids.length - MAX_ENTRIES))) delete all[id];
    this.#storage.setItem(RECORD_LABELS_KEY, JSON.stringify(all));
  }

  /** Of `recordIds` (an owner's records, oldest first), the newest marked as personal information. */
  personalRecord(recordIds: readonly string[]): string | undefined {
    const all = this.#read();
    return [...recordIds].reverse().find((id) => all[id]?.personal === true);
  }
}
