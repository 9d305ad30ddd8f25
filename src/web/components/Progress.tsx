/**
 * Actions that take a few seconds (encrypt, sign, wait for a block, upload): which step they are at, told from
 * the node calls the client makes, then done or a readable error.
 */
import { useCallback, useRef, useState } from 'preact/hooks';
import { nextStep, type StepDef } from '../lib/steps.ts';
import { ErrorNotice } from './states.tsx';

export type { StepDef };

export type ActionState =
  | { readonly status: 'idle' }
  | { readonly status: 'busy'; readonly step: number }
  | { readonly status: 'done' }
  | { readonly status: 'error'; readonly error: unknown; readonly step: number };

export interface Action {
  readonly state: ActionState;
  readonly busy: boolean;
  /** Runs `work`; `onCall` moves the step forward. Resolves true when it succeeded. */
  run(work: (onCall: (method: string) => void) => Promise<void>): Promise<boolean>;
  reset(): void;
}

export function useAction(steps: readonly StepDef[]): Action {
  const [state, setState] = useState<ActionState>({ status: 'idle' });
  const stepRef = useRef(0);
  const running = useRef(false);
  const run = useCallback(
    async (work: (onCall: (method: string) => void) => Promise<void>): Promise<boolean> => {
      if (running.current) return false;
      running.current = true;
      stepRef.current = 0;
      setState({ status: 'busy', step: 0 });
      try {
        await work((method) => {
          const next = nextStep(steps, stepRef.current, method);
          if (next !== stepRef.current) {
            stepRef.current = next;
            setState({ status: 'busy', step: next });
          }
        });
        setState({ status: 'done' });
        return true;
      } catch (error) {
        setState({ status: 'error', error, step: stepRef.current });
        return false;
      } finally {
        running.current = false;
      }
    },
    [steps],
  );
  const reset = useCallback(() => setState({ status: 'idle' }), []);
  return { state, busy: state.status === 'busy', run, reset };
}

/** The steps with the current one marked, or the error with the step it happened at. */
export function ActionProgress({ steps, action, onRetry }: { steps: readonly StepDef[]; action: Action; onRetry?: () => void }) {
  const { state } = action;
  if (state.status === 'idle' || state.status === 'done') return null;
  const at = state.step;
  return (
    <div class="progress" aria-live="polite">
      <ol class="steps">
        {steps.map((step, i) => {
          const status = i < at ? 'done' : i === at ? (state.status === 'error' ? 'failed' : 'current') : 'todo';
          return (
            <li key={step.label} class={`step step-${status}`} aria-current={status === 'current' ? 'step' : undefined}>
              <span class="step-mark" aria-hidden="true">
                {status === 'done' ? '✓' : status === 'failed' ? '!' : i + 1}
              </span>
              <span class="step-label">{step.label}</span>
              {status === 'current' ? <span class="spinner small" aria-hidden="true" /> : null}
              <span class="visually-hidden">{status === 'done' ? ' (done)' : status === 'current' ? ' (in progress)' : status === 'failed' ? ' (failed)' : ''}</span>
            </li>
          );
        })}
      </ol>
      {state.status === 'error' ? <ErrorNotice error={state.error} onRetry={onRetry} compact /> : null}
    </div>
  );
}
