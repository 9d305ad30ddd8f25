// Vite turns CSS imports into stylesheet links in the built HTML.
declare module '*.css';

// config/vite.config.ts: the URL of the compacted FHIR R4 definitions (a hashed JSON asset).
declare module 'virtual:medchain/fhir-r4-definitions-url' {
  const url: string;
  export default url;
}
