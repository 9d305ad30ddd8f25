/** 1-based line and column (in code points) of `offset` in `source`. */
export function sourcePosition(source: string, offset: number): { line: number; column: number } {
  let line = 1;
  let column = 1;
  const end = Math.min(offset, source.length);
  for (let i = 0; i < end; i++) {
    const c = source.charCodeAt(i);
    if (c === 10) {
      line++;
      column = 1;
    } else if (c < 0xdc00 || c > 0xdfff) {
      // The low half of a surrogate pair does not start a new column.
      column++;
    }
  }
  return { line, column };
}
