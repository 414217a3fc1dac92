// Plain aligned text tables for the human output of the operating commands. Twenty lines of our
// own rather than a table library: the output is columns separated by two spaces, no borders, so
// that it stays greppable and `cut`/`awk`-able.

/** Formats `rows` under `headers`, each column as wide as its widest cell, two spaces apart. */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** `name  value` lines, names padded to one width. */
export function formatPairs(pairs: readonly (readonly [string, string])[]): string {
  const width = Math.max(0, ...pairs.map(([name]) => name.length));
  return (
    pairs.map(([name, value]) => `${name.padEnd(width)}  ${value}`.trimEnd()).join('\n') + '\n'
  );
}

/** A time as ISO 8601 UTC to the second (`2026-11-22T10:04:05Z`), or `-`. */
export function formatTime(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return '-';
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** An integer with thin grouping for people: `1 234 567`. */
export function formatCount(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
}

/** The first `bytes` bytes of a hex id, `…` appended when cut (as `list` shows ids). */
export function shortId(hex: string, bytes = 8): string {
  return hex.length > bytes * 2 ? `${hex.slice(0, bytes * 2)}…` : hex;
}
