/**
 * A decrypted record version on screen: FHIR as readable resources, text as text, images previewed, every
 * kind downloadable through a blob: URL. All of it is rendered as text nodes; nothing from the record becomes
 * markup, a URL of another origin, or script.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { Badge, Notice } from '../../components/ui.tsx';
import { viewBundle, type ResourceView } from '../../lib/fhirDisplay.ts';
import { formatBytes, plural } from '../../lib/format.ts';
import { downloadName, kindOf } from '../../lib/recordLabels.ts';

const MAX_TEXT_SHOWN = 200_000;
const PREVIEWABLE = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

/** A blob: URL for `bytes`, revoked when the component goes away or the bytes change. */
function useBlobUrl(bytes: Uint8Array, type: string): string {
  const url = useMemo(() => URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type })), [bytes, type]);
  useEffect(() => () => URL.revokeObjectURL(url), [url]);
  return url;
}

export function RecordContent({ plaintext, contentType, recordId, version, fileName }: { plaintext: Uint8Array; contentType: string; recordId: string; version: number; fileName?: string }) {
  // A download is always offered as opaque bytes, so the browser saves it instead of rendering it in this origin.
  const downloadUrl = useBlobUrl(plaintext, 'application/octet-stream');
  const name = downloadName(recordId, version, contentType, fileName);
  const download = (
    <a class="button secondary small" href={downloadUrl} download={name} data-testid="record-download">
      Download {kindOf(contentType).noun.toLowerCase()} ({formatBytes(plaintext.length)})
    </a>
  );
  if (contentType === 'application/fhir+json') return <FhirContent plaintext={plaintext} download={download} />;
  if (PREVIEWABLE.has(contentType)) return <ImageContent plaintext={plaintext} contentType={contentType} download={download} />;
  if (contentType.startsWith('text/') || contentType === 'application/xml') {
    const text = new TextDecoder().decode(plaintext.subarray(0, MAX_TEXT_SHOWN));
    return (
      <div class="record-content">
        <pre class="code-block record-text">{text}</pre>
        {plaintext.length > MAX_TEXT_SHOWN ? <p class="hint">Only the start is shown; download the file for all of it.</p> : null}
        <div class="form-actions">{download}</div>
      </div>
    );
  }
  return (
    <div class="record-content">
      <Notice tone="info" title={`${kindOf(contentType).noun}, ${formatBytes(plaintext.length)}`}>
        <p>This kind of file is not shown in the page. Download it and open it with an app you trust; it stays decrypted on your device.</p>
      </Notice>
      <div class="form-actions">{download}</div>
    </div>
  );
}

function ImageContent({ plaintext, contentType, download }: { plaintext: Uint8Array; contentType: string; download: ComponentChildren }) {
  const url = useBlobUrl(plaintext, contentType);
  return (
    <div class="record-content">
      <img class="record-image" src={url} alt="The decrypted image of this record" />
      <div class="form-actions">{download}</div>
    </div>
  );
}

function FhirContent({ plaintext, download }: { plaintext: Uint8Array; download: ComponentChildren }) {
  const parsed = useMemo(() => {
    try {
      return { ok: true as const, view: viewBundle(JSON.parse(new TextDecoder().decode(plaintext))) };
    } catch (error) {
      return { ok: false as const, message: error instanceof Error ? error.message : 'not JSON' };
    }
  }, [plaintext]);
  const [raw, setRaw] = useState(false);
  if (!parsed.ok) {
    return (
      <div class="record-content">
        <Notice tone="warn" title="This record is not readable FHIR JSON">
          <p>It decrypted correctly but is not valid JSON ({parsed.message}). Download it to inspect it.</p>
        </Notice>
        <div class="form-actions">{download}</div>
      </div>
    );
  }
  const { view } = parsed;
  return (
    <div class="record-content fhir" data-testid="fhir-view">
      <p class="muted">
        {view.bundleType === '' ? 'A FHIR resource' : `FHIR ${view.bundleType} bundle`} · {plural(view.total, 'entry', 'entries')}
        {view.timestamp === '' ? null : <> · {view.timestamp}</>}
      </p>
      {view.groups.map((group) => (
        <section class="fhir-group" key={group.group}>
          <h3 class="fhir-group-title">
            {group.title} <span class="muted">({group.views.length})</span>
          </h3>
          <ul class="fhir-list">
            {group.views.map((resource, i) => (
              <ResourceCard key={i} view={resource} />
            ))}
          </ul>
        </section>
      ))}
      {view.omitted > 0 ? <p class="hint">{plural(view.omitted, 'more entry', 'more entries')} not shown; download the record for all of it.</p> : null}
      <div class="form-actions">
        {download}
        <button type="button" class="button ghost small" onClick={() => setRaw(!raw)} aria-expanded={raw}>
          {raw ? 'Hide the JSON' : 'Show the JSON'}
        </button>
      </div>
      {raw ? <pre class="code-block record-text">{new TextDecoder().decode(plaintext.subarray(0, MAX_TEXT_SHOWN))}</pre> : null}
    </div>
  );
}

function ResourceCard({ view }: { view: ResourceView }) {
  return (
    <li class={`fhir-resource fhir-${view.group}`}>
      <div class="fhir-resource-head">
        <span class="fhir-title">{view.title}</span>
        {view.badges.map((b, i) => (
          <Badge key={i} tone={b.tone}>
            {b.text}
          </Badge>
        ))}
      </div>
      {view.fields.length > 0 ? (
        <dl class="fhir-fields">
          {view.fields.map(([label, value], i) => (
            <div class="fhir-field" key={i}>
              <dt>{label}</dt>
              <dd>{value}</dd>
            </div>
          ))}
        </dl>
      ) : null}
      {view.notes.map((note, i) => (
        <p class="fhir-note" key={i}>
          {note}
        </p>
      ))}
    </li>
  );
}
