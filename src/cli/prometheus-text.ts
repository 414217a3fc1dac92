// Reading a Prometheus text exposition (what `serve --metrics-port` and any prom-client registry
// serve), for `stats --server`. Only the sample lines are read: `name{label="value",…} value`.
// A few lines of our own rather than a parser package: the input is our own exporter's output.

/** One sample of an exposition. */
export interface PrometheusSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?\s*$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The samples of a text exposition; comments, blank and unreadable lines are skipped. */
export function parsePrometheusText(text: string): PrometheusSample[] {
  const samples: PrometheusSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (match === null) continue;
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (match[2] ?? '').matchAll(LABEL)) {
      labels[key!] = raw!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    const text = match[3]!;
    const value = text === '+Inf' ? Infinity : text === '-Inf' ? -Infinity : Number(text);
    samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

/** `name{a="1",b="2"}` (labels in the order given), or `name` without labels. */
export function seriesKey(sample: PrometheusSample): string {
  const labels = Object.entries(sample.labels);
  if (labels.length === 0) return sample.name;
  return `${sample.name}{${labels.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
}
