// Checking command-line option values. Every error is an `Error` whose message is one line starting
// with the option's name (`--port: …`), which main prints after the program name; values from the
// user are quoted, bounded and never repeated when they may hold a secret.

/**
 * Runs a validator and prefixes its error with the option's name (none when `name` is empty),
 * keeping the first line. `keyFile ` is dropped after `--key-file: `: it says the same.
 */
export function optionValue<T>(name: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
    if (name === '') throw new Error(message);
    throw new Error(`${name}: ${message.replace(/^keyFile /, '')}`);
  }
}

/** A whole number from `min` to `max` written in decimal digits. */
export function wholeNumber(name: string, value: string, min: number, max: number): number {
  const n = /^\d{1,10}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= min && n <= max)) {
    throw new Error(`${name}: must be a whole number from ${min} to ${max}, got ${show(value)}`);
  }
  return n;
}

/** A user-supplied value quoted for a one-line message, at most 60 characters shown. */
export function show(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * Parses a duration such as `90s`, `15m`, `2h`, `7d`, `1h30m` or `500ms` into milliseconds. A unit
 * is required: a bare `300` could mean seconds (OpenSSL's timeouts) or milliseconds.
 * (Eight lines of parsing; `ms` and friends accept bare numbers as milliseconds.)
 */
export function parseDuration(name: string, value: string): number {
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/y;
  let total = 0;
  let at = 0;
  while (at < value.length) {
    part.lastIndex = at;
    const match = part.exec(value);
    if (match === null) break;
    total += Number(match[1]) * DURATION_UNITS_MS[match[2]!]!;
    at = part.lastIndex;
  }
  if (value === '' || at !== value.length || !Number.isFinite(total)) {
    throw new Error(
      `${name}: must be a duration such as 30s, 15m, 2h, 7d or 1h30m, got ${show(value)}`,
    );
  }
  return total;
}
