// src/client/fhir.ts and rpcClient.ts bundled for the browser and run in a bare V8 context that has only what a
// page has (no require, process, Buffer or node: modules). Also pins the bundle sizes a web app pays.

import { fileURLToPath } from 'node:url';
import { createContext, runInContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { rolldown } from 'rolldown';
import { describe, expect, it } from 'vitest';
import { fixtureText, r4Definitions } from './fhirSupport.ts';
import { NODE_INFO } from './rpcSamples.ts';

async function browserBundle(file: string, name: string, minify: boolean): Promise<string> {
  const input = fileURLToPath(new URL(`../../../src/client/${file}`, import.meta.url));
  const bundle = await rolldown({ input, platform: 'browser', logLevel: 'warn' });
  const { output } = await bundle.generate({ format: 'iife', name, minify });
  await bundle.close();
  expect(output).toHaveLength(1);
  const code = output[0]!.code;
  expect(code).not.toMatch(/\brequire\(|from\s*['"]node:/);
  return code;
}

/** Globals a browser page has and these modules use; nothing Node-only. @medplum/core subclasses WebSocket at load. */
function pageContext(extra: Record<string, unknown> = {}): object {
  class WebSocket extends EventTarget {}
  return createContext({ TextEncoder, TextDecoder, setTimeout, clearTimeout, AbortController, AbortSignal, Headers, Response, EventTarget, WebSocket, ...extra });
}

describe('src/client in a browser', () => {
  it('fhir.ts: loads the compact definitions, validates a bundle and classifies uploads without Node globals', async () => {
    const code = await browserBundle('fhir.ts', 'medchainFhir', false);
    const context = pageContext({ DEFINITIONS_JSON: JSON.stringify(r4Definitions()), BUNDLE_TEXT: fixtureText('patient-summary-collection') });
    runInContext(code, context);
    const result = JSON.parse(
      runInContext(
        `(() => {
          const F = medchainFhir;
          F.loadFhirR4Definitions(JSON.parse(DEFINITIONS_JSON));
          const upload = F.classifyUpload(new TextEncoder().encode(BUNDLE_TEXT), 'summary.json', 'application/json');
          const valid = F.validateFhirBundle(upload.json);
          const broken = JSON.parse(BUNDLE_TEXT);
          broken.entry[2].resource.status = 'done';
          const pdf = F.classifyUpload(new TextEncoder().encode('%PDF-1.4 test'), 'a.pdf', '');
          return JSON.stringify({
            kind: upload.kind,
            summary: valid.summary,
            issues: F.validateFhirBundle(broken).issues,
            pdf,
            nodeGlobals: [typeof require, typeof process, typeof Buffer].join(','),
          });
        })()`,
        context,
      ) as string,
    ) as Record<string, unknown>;
    expect(result.nodeGlobals).toBe('undefined,undefined,undefined');
    expect(result.kind).toBe('fhir-bundle');
    expect(result.summary).toMatchObject({ type: 'collection', entryCount: 6 });
    expect(result.issues).toEqual([{ path: 'Bundle.entry[2].resource.status', message: expect.stringMatching(/"done" is not in the required value set/) }]);
    expect(result.pdf).toEqual({ kind: 'attachment', contentType: 'application/pdf' });
  });

  it('rpcClient.ts: makes a call through an injected fetch without Node globals', async () => {
    const code = await browserBundle('rpcClient.ts', 'medchainRpc', false);
    const bodies: string[] = [];
    const fakeFetch = async (_url: string, init: { body: string }): Promise<Response> => {
      bodies.push(init.body);
      const { id } = JSON.parse(init.body) as { id: number };
      return new Response(JSON.stringify({ jsonrpc: '2.0', id, result: NODE_INFO }), { status: 200 });
    };
    const context = pageContext({ fakeFetch });
    runInContext(code, context);
    const info = (await runInContext(
      `new medchainRpc.MedchainRpc({ url: 'http://127.0.0.1:1/rpc', fetch: fakeFetch }).nodeInfo()`,
      context,
    )) as unknown;
    expect(info).toEqual(NODE_INFO);
    expect(bodies).toEqual(['{"jsonrpc":"2.0","method":"node_info","id":1}']);
  });

  it('stays small: fhir.ts about 100 kB minified (25 kB gzipped) plus 3.8 MB of definitions (185 kB gzipped) fetched once; rpcClient.ts about 7 kB', async () => {
    const fhir = await browserBundle('fhir.ts', 'medchainFhir', true);
    const rpc = await browserBundle('rpcClient.ts', 'medchainRpc', true);
    expect(fhir.length).toBeLessThan(130_000);
    expect(gzipSync(fhir).length).toBeLessThan(35_000);
    expect(rpc.length).toBeLessThan(12_000);
  });
});
