/** The steps of an action that takes a few seconds, told from the node calls its client makes (components/Progress.tsx). */

export interface StepDef {
  readonly label: string;
  /** Node methods whose call means this step has started. */
  readonly methods: readonly string[];
}

/** The first step at or after `from` that `method` starts; `from` when none does (steps never go back). */
export function nextStep(steps: readonly StepDef[], from: number, method: string): number {
  for (let i = from; i < steps.length; i++) if (steps[i]!.methods.includes(method)) return i;
  return from;
}
