/** Loading, empty and error states: every page shows one of these instead of a blank or a stack trace. */
import type { ComponentChildren } from 'preact';
import { describeError } from '../lib/describeError.ts';
import type { Query } from '../lib/hooks.ts';
import { Link } from '../lib/router.tsx';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div class="state state-loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

export function Empty({ title, children, action }: { title: string; children?: ComponentChildren; action?: ComponentChildren }) {
  return (
    <div class="state state-empty">
      <p class="state-title">{title}</p>
      {children === undefined ? null : <div class="state-body">{children}</div>}
      {action === undefined ? null : <div class="state-action">{action}</div>}
    </div>
  );
}

/** A readable error with the node's reason code and, when it can help, a retry button. */
export function ErrorNotice({ error, onRetry, compact = false }: { error: unknown; onRetry?: () => void; compact?: boolean }) {
  const d = describeError(error);
  return (
    <div class={compact ? 'state state-error compact' : 'state state-error'} role="alert">
      <p class="state-title">{d.title}</p>
      <p class="state-body">{d.detail}</p>
      <div class="state-footer">
        {d.code === undefined ? null : <code class="error-code">{d.code}</code>}
        {onRetry !== undefined && d.retry ? (
          <button type="button" class="button secondary small" onClick={onRetry}>
            Try again
          </button>
        ) : null}
      </div>
    </div>
  );
}

export function NotFound({ what, children }: { what: string; children?: ComponentChildren }) {
  return (
    <Empty title={`${what} not found`} action={<Link to={{ page: 'explorer' }}>Back to the explorer</Link>}>
      {children}
    </Empty>
  );
}

/**
 * Renders a query: a spinner first, an error with retry, then `children(data)`. A failed refresh keeps the
 * data on screen with a small notice above it.
 */
export function QueryView<T>({ query, loading, children }: { query: Query<T>; loading?: string; children: (data: T) => ComponentChildren }) {
  const { state } = query;
  if (state.status === 'loading') return <Loading label={loading} />;
  if (state.status === 'error' && state.data === undefined) return <ErrorNotice error={state.error} onRetry={query.reload} />;
  return (
    <>
      {state.status === 'error' ? <ErrorNotice error={state.error} onRetry={query.reload} compact /> : null}
      {children(state.data as T)}
    </>
  );
}
