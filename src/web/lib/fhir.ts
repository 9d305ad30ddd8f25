/**
 * FHIR R4 validation in the browser (src/client/fhir.ts), loaded on first use: the validator (@medplum/core)
 * is a separate chunk and the R4 definitions a separate JSON asset (config/vite.config.ts), so pages that
 * never validate a record never download either.
 */
import definitionsUrl from 'virtual:medchain/fhir-r4-definitions-url';

export type FhirModule = typeof import('../../client/fhir.ts');

let loading: Promise<FhirModule> | undefined;

/** The FHIR module with the R4 definitions installed; a failed load is retried on the next call. */
export function loadFhir(): Promise<FhirModule> {
  loading ??= (async () => {
    const [fhir, response] = await Promise.all([import('../../client/fhir.ts'), fetch(definitionsUrl)]);
    if (!response.ok) throw new Error(`the FHIR definitions could not be loaded from this node (HTTP ${response.status}); reload the page`);
    if (!fhir.fhirR4DefinitionsLoaded()) fhir.loadFhirR4Definitions((await response.json()) as Parameters<FhirModule['loadFhirR4Definitions']>[0]);
    return fhir;
  })().catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}
