/**
 * Choose what a record holds: a FHIR R4 Bundle pasted or uploaded as JSON (validated against the R4
 * definitions in this browser), or any other file (PDF, image, DICOM, text) kept as an attachment, its type
 * decided by its bytes. Nothing leaves the browser here: the parent encrypts what this hands it.
 */
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import type { FhirIssue } from '../../../client/fhir.ts';
import { Loading } from '../../components/states.tsx';
import { Notice } from '../../components/ui.tsx';
import { loadFhir } from '../../lib/fhir.ts';
import { formatBytes, plural } from '../../lib/format.ts';
import { kindOf } from '../../lib/recordLabels.ts';

export interface PreparedRecord {
  readonly bytes: Uint8Array;
  readonly contentType: string;
  readonly fileName?: string;
  /** One line: what this is ("FHIR collection: 1 Patient, 3 Observations"). */
  readonly summary: string;
}

type Check =
  | { readonly status: 'empty' }
  | { readonly status: 'checking' }
  | { readonly status: 'ok'; readonly record: PreparedRecord; readonly warnings: readonly FhirIssue[] }
  | { readonly status: 'invalid'; readonly title: string; readonly issues: readonly FhirIssue[] }
  | { readonly status: 'failed'; readonly error: unknown };

const SHOWN_ISSUES = 8;

function resourceSummary(types: Readonly<Record<string, number>>): string {
  return Object.entries(types)
    .map(([type, count]) => plural(count, type))
    .join(', ');
}

/** Classifies and validates `bytes` as a record would hold them. */
async function check(bytes: Uint8Array, fileName: string, declaredType: string): Promise<Check> {
  const fhir = await loadFhir();
  const kind = fhir.classifyUpload(bytes, fileName, declaredType);
  if (kind.kind === 'refused') return { status: 'invalid', title: 'This cannot be stored as a record', issues: [{ path: '', message: kind.message }] };
  if (kind.kind === 'attachment') {
    const noun = kindOf(kind.contentType).noun;
    return {
      status: 'ok',
      record: { bytes, contentType: kind.contentType, fileName, summary: `${noun}, ${formatBytes(bytes.length)}: kept as an attachment` },
      warnings: [],
    };
  }
  const result = fhir.validateFhirBundle(kind.json);
  if (!result.ok) return { status: 'invalid', title: `This is not a valid FHIR R4 record (${plural(result.issues.length, 'problem')})`, issues: result.issues };
  return {
    status: 'ok',
    record: {
      bytes,
      contentType: kind.contentType,
      ...(fileName === '' ? {} : { fileName }),
      summary: `FHIR R4 ${result.summary.type} bundle, ${formatBytes(bytes.length)}: ${resourceSummary(result.summary.resourceTypes)}`,
    },
    warnings: result.warnings,
  };
}

export function RecordInput({ onChange, disabled = false }: { onChange: (record: PreparedRecord | null) => void; disabled?: boolean }) {
  const [mode, setMode] = useState<'paste' | 'file'>('paste');
  const [text, setText] = useState('');
  const [state, setState] = useState<Check>({ status: 'empty' });
  const runRef = useRef(0);
  const textId = useId();
  const fileId = useId();

  useEffect(() => {
    onChange(state.status === 'ok' ? state.record : null);
  }, [state]);

  const start = (work: () => Promise<Check>): void => {
    // Only the latest check counts: an earlier, slower one must not overwrite it.
    const mine = ++runRef.current;
    setState({ status: 'checking' });
    work().then(
      (result) => runRef.current === mine && setState(result),
      (error: unknown) => runRef.current === mine && setState({ status: 'failed', error }),
    );
  };

  const checkText = (): void => {
    if (text.trim() === '') {
      setState({ status: 'empty' });
      return;
    }
    start(() => check(new TextEncoder().encode(text), '', 'application/fhir+json'));
  };

  const onFile = (event: Event): void => {
    const input = event.currentTarget as HTMLInputElement;
    const chosen = input.files?.[0];
    if (chosen === undefined) {
      setState({ status: 'empty' });
      return;
    }
    start(async () => check(new Uint8Array(await chosen.arrayBuffer()), chosen.name, chosen.type));
  };

  return (
    <div class="record-input">
      <div class="segmented" role="group" aria-label="How to add the record">
        <button type="button" class={mode === 'paste' ? 'segment current' : 'segment'} aria-pressed={mode === 'paste'} onClick={() => { setMode('paste'); setState({ status: 'empty' }); }} disabled={disabled}>
          Paste FHIR JSON
        </button>
        <button type="button" class={mode === 'file' ? 'segment current' : 'segment'} aria-pressed={mode === 'file'} onClick={() => { setMode('file'); setState({ status: 'empty' }); }} disabled={disabled}>
          Upload a file
        </button>
      </div>
      {mode === 'paste' ? (
        <div class="form-field">
          <label for={textId}>FHIR R4 Bundle (JSON)</label>
          <textarea
            id={textId}
            class="input mono"
            rows={8}
            value={text}
            disabled={disabled}
            spellcheck={false}
            autoComplete="off"
            placeholder='{"resourceType": "Bundle", "type": "collection", "entry": [ … ]}'
            onInput={(e) => {
              setText(e.currentTarget.value);
              setState({ status: 'empty' });
            }}
            onBlur={checkText}
          />
          <div class="form-actions">
            <button type="button" class="button secondary small" onClick={checkText} disabled={disabled || text.trim() === ''}>
              Check
            </button>
          </div>
          <p class="hint">Most patient portals can export your records as a FHIR R4 Bundle. It is checked here, in your browser.</p>
        </div>
      ) : (
        <div class="form-field">
          <label for={fileId}>File</label>
          <input id={fileId} class="input" type="file" onChange={onFile} disabled={disabled} />
          <p class="hint">A FHIR R4 JSON export, a PDF, a photo or scan (PNG, JPEG, GIF, TIFF, WebP), a DICOM image or a text file; up to 3 MB.</p>
        </div>
      )}
      <CheckResult state={state} />
    </div>
  );
}

function CheckResult({ state }: { state: Check }) {
  switch (state.status) {
    case 'empty':
      return null;
    case 'checking':
      return <Loading label="Checking the record in this browser…" />;
    case 'failed':
      return (
        <Notice tone="bad" title="The record could not be checked">
          <p>{state.error instanceof Error ? state.error.message : 'The checker failed to load.'}</p>
        </Notice>
      );
    case 'invalid':
      return (
        <Notice tone="bad" title={state.title}>
          <IssueList issues={state.issues} />
        </Notice>
      );
    case 'ok':
      return (
        <Notice tone="good" title="Ready to encrypt">
          <p data-testid="record-summary">{state.record.summary}</p>
          {state.warnings.length > 0 ? (
            <details>
              <summary>{plural(state.warnings.length, 'remark')} (not blocking)</summary>
              <IssueList issues={state.warnings} />
            </details>
          ) : null}
        </Notice>
      );
  }
}

function IssueList({ issues }: { issues: readonly FhirIssue[] }) {
  return (
    <ul class="issues">
      {issues.slice(0, SHOWN_ISSUES).map((issue, i) => (
        <li key={i}>
          {issue.path === '' ? null : <code class="issue-path">{issue.path}</code>} {issue.message}
        </li>
      ))}
      {issues.length > SHOWN_ISSUES ? <li class="muted">…and {issues.length - SHOWN_ISSUES} more</li> : null}
    </ul>
  );
}
