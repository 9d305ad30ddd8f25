/** Small building blocks: sections, key-value lists, badges, notices, hex values, times, copy buttons. */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { formatDateTime, relativeTime, shortHex } from '../lib/format.ts';
import { useNow } from '../lib/hooks.ts';
import type { Tone } from '../lib/tone.ts';

export type { Tone };

export function Page({ title, subtitle, actions, children }: { title: string; subtitle?: ComponentChildren; actions?: ComponentChildren; children?: ComponentChildren }) {
  return (
    <div class="page">
      <header class="page-header">
        <div>
          <h1 tabIndex={-1} class="page-title">
            {title}
          </h1>
          {subtitle === undefined ? null : <p class="page-subtitle">{subtitle}</p>}
        </div>
        {actions === undefined ? null : <div class="page-actions">{actions}</div>}
      </header>
      {children}
    </div>
  );
}

export function Section({ title, actions, children, id }: { title?: ComponentChildren; actions?: ComponentChildren; children?: ComponentChildren; id?: string }) {
  return (
    <section class="card" id={id}>
      {title === undefined && actions === undefined ? null : (
        <header class="card-header">
          {title === undefined ? <span /> : <h2 class="card-title">{title}</h2>}
          {actions === undefined ? null : <div class="card-actions">{actions}</div>}
        </header>
      )}
      <div class="card-body">{children}</div>
    </section>
  );
}

/** A definition list that stacks on narrow screens. */
export function Fields({ rows }: { rows: readonly (readonly [label: string, value: ComponentChildren] | null | false)[] }) {
  return (
    <dl class="fields">
      {rows.map((row) =>
        row ? (
          <div class="field" key={row[0]}>
            <dt>{row[0]}</dt>
            <dd>{row[1]}</dd>
          </div>
        ) : null,
      )}
    </dl>
  );
}

export function Badge({ tone = 'neutral', children }: { tone?: Tone; children: ComponentChildren }) {
  return <span class={`badge badge-${tone}`}>{children}</span>;
}

export function Notice({ tone = 'info', title, children }: { tone?: Tone; title?: ComponentChildren; children?: ComponentChildren }) {
  return (
    <div class={`notice notice-${tone}`} role={tone === 'bad' || tone === 'warn' ? 'note' : undefined}>
      {title === undefined ? null : <p class="notice-title">{title}</p>}
      {children}
    </div>
  );
}

/** A hex value shortened for the eye; the whole value is in the title and is what gets copied. */
export function Hex({ value, full = false }: { value: string; full?: boolean }) {
  return (
    <code class={full ? 'hex hex-full' : 'hex'} title={value}>
      {full ? value : shortHex(value)}
    </code>
  );
}

export function CopyButton({ value, label = 'Copy' }: { value: string; label?: string }) {
  const [copied, setCopied] = useState<'no' | 'yes' | 'failed'>('no');
  const copy = (): void => {
    navigator.clipboard.writeText(value).then(
      () => setCopied('yes'),
      () => setCopied('failed'),
    );
    setTimeout(() => setCopied('no'), 2000);
  };
  return (
    <button type="button" class="button ghost small" onClick={copy} aria-label={`${label}: ${value}`}>
      {copied === 'yes' ? 'Copied' : copied === 'failed' ? 'Select and copy' : label}
    </button>
  );
}

/** A full hex value on its own line with a copy button (for keys and ids people must pass on). */
export function HexWithCopy({ value }: { value: string }) {
  return (
    <span class="hex-copy">
      <code class="hex hex-full">{value}</code>
      <CopyButton value={value} />
    </span>
  );
}

export function TimeAgo({ ms }: { ms: number }) {
  const now = useNow();
  return (
    <time dateTime={new Date(ms).toISOString()} title={formatDateTime(ms)}>
      {relativeTime(ms, now)}
    </time>
  );
}

export function DateTime({ ms }: { ms: number }) {
  return <time dateTime={new Date(ms).toISOString()}>{formatDateTime(ms)}</time>;
}
