/** Dates from and for HTML date inputs, in local time. */

/** An HTML date input's value for a time (YYYY-MM-DD, local). */
export function dateInputValue(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** The end (23:59:59.999 local) of the day an HTML date input names; NaN when malformed. */
export function endOfDay(value: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (match === null) return Number.NaN;
  return new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]), 23, 59, 59, 999).getTime();
}
