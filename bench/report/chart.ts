/**
 * The benchmark's chart as a self-contained SVG (no scripts, no external fonts or images, a white
 * background so that it reads in dark mode too): per case, a horizontal bar of handshakes/s (with
 * the min–max of the rounds as a whisker) and one of server CPU µs per handshake, grouped by TLS
 * version and mode. Hand-written: it is a few dozen rectangles and labels.
 *
 * @module
 */
import { modeLabel } from './table.js';
import type { BenchResult, CaseResult } from './types.js';

const FONT = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";
const LABEL_W = 270;
const PANEL_W = 290;
const GAP = 70;
const LEFT = 12;
const X1 = LEFT + LABEL_W;
const X2 = X1 + PANEL_W + GAP;
const WIDTH = X2 + PANEL_W + 60;
const ROW_H = 17;
const BAR_H = 11;
const GROUP_H = 24;

/** Bar colours by server configuration; stores added later take the spare ones in order. */
const COLORS: Record<string, string> = {
  'node-tickets': '#9aa0a6',
  map: '#e8a33d',
  'attach-memory': '#1f6fb2',
  'attach-memory-no-reader': '#86b6e0',
  s_server: '#3a3a3a',
};
const SPARE_COLORS = ['#2e9c6a', '#c0504d', '#8e6bbf', '#b5852b'];

export function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}

/** A round step (1, 2 or 5 × 10^k) that cuts `max` into about `parts` intervals. */
export function niceStep(max: number, parts = 4): number {
  if (!(max > 0)) return 1;
  const raw = max / parts;
  const power = 10 ** Math.floor(Math.log10(raw));
  const scaled = raw / power;
  return (scaled <= 1 ? 1 : scaled <= 2 ? 2 : scaled <= 5 ? 5 : 10) * power;
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US').replaceAll(',', ' ');
const f = (n: number): string => (Math.round(n * 10) / 10).toString();

function text(
  x: number,
  y: number,
  content: string,
  attrs: {
    size?: number;
    anchor?: 'start' | 'middle' | 'end';
    weight?: string;
    fill?: string;
  } = {},
): string {
  return (
    `<text x="${f(x)}" y="${f(y)}" font-size="${attrs.size ?? 11}"` +
    `${attrs.anchor === undefined ? '' : ` text-anchor="${attrs.anchor}"`}` +
    `${attrs.weight === undefined ? '' : ` font-weight="${attrs.weight}"`}` +
    ` fill="${attrs.fill ?? '#222'}">${escapeXml(content)}</text>`
  );
}

function rowLabel(c: CaseResult): string {
  const client = c.client === 's_time' ? ' ← s_time' : '';
  const reuse = c.ticketReuse ? ' (tickets reused)' : '';
  return `${c.label}${reuse}${client}`;
}

interface Panel {
  x: number;
  title: string;
  max: number;
  step: number;
}

function panel(x: number, title: string, values: readonly number[]): Panel {
  const top = Math.max(...values, 0);
  const step = niceStep(top);
  return { x, title, step, max: Math.max(step, Math.ceil(top / step) * step) };
}

function svgOpen(height: number): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${f(height)}" ` +
    `viewBox="0 0 ${WIDTH} ${f(height)}" font-family="${FONT}" role="img" ` +
    `aria-label="TLS handshakes per second and server CPU per handshake, per configuration">`
  );
}

/** Renders the chart of one run. */
export function renderChart(result: BenchResult): string {
  const colorOf = new Map(Object.entries(COLORS));
  for (const c of result.cases) {
    if (!colorOf.has(c.config)) {
      colorOf.set(c.config, SPARE_COLORS[(colorOf.size - 5) % SPARE_COLORS.length]!);
    }
  }
  const groups: { title: string; cases: CaseResult[] }[] = [];
  for (const tls of ['1.2', '1.3'] as const) {
    for (const mode of ['resumed', 'full'] as const) {
      const cases = result.cases.filter((c) => c.tls === tls && c.mode === mode);
      if (cases.length > 0) groups.push({ title: `TLS ${tls} · ${mode}`, cases });
    }
  }
  const rate = panel(
    X1,
    'handshakes/s (median; whisker: min–max of rounds)',
    result.cases.map((c) => c.maxHandshakesPerSec),
  );
  const cpu = panel(
    X2,
    'server CPU µs per handshake (lower: cheaper)',
    result.cases.map((c) => c.serverCpuUsPerHandshake),
  );
  const top = 78;
  const rowsHeight = groups.reduce((h, g) => h + GROUP_H + g.cases.length * ROW_H, 0);
  const bottom = top + rowsHeight + 8;
  const m = result.meta;
  const out: string[] = [
    '', // the <svg> element, once the height is known
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    text(LEFT, 22, 'TLS handshakes: resumed and full, side by side in one run', {
      size: 15,
      weight: '600',
    }),
    text(
      LEFT,
      40,
      `Node ${m.node} (OpenSSL ${m.nodeOpenssl}), ${m.opensslCli.replace(/ \(Library.*$/, '')}, ` +
        `${m.cpus} CPUs, loopback, ${m.cert === 'rsa' ? 'RSA-2048' : 'ECDSA P-256'}; median of ${m.rounds} rounds × ${m.durationS} s ` +
        `(${m.concurrency} connections; s_time ${m.sTimeSeconds} s, one at a time); ${m.date.slice(0, 10)}`,
      { size: 10.5, fill: '#555' },
    ),
  ];
  for (const p of [rate, cpu]) {
    out.push(text(p.x, top - 14, p.title, { size: 11, weight: '600' }));
    for (let v = 0; v <= p.max + 1e-9; v += p.step) {
      const x = p.x + (v / p.max) * PANEL_W;
      out.push(
        `<line x1="${f(x)}" y1="${top - 6}" x2="${f(x)}" y2="${f(bottom)}" stroke="#e3e3e3"/>`,
        text(x, bottom + 14, int(v), { size: 10, anchor: 'middle', fill: '#666' }),
      );
    }
  }
  let y = top;
  for (const g of groups) {
    y += GROUP_H;
    out.push(text(LEFT, y - 7, g.title, { size: 12, weight: '600' }));
    out.push(
      `<line x1="${LEFT}" y1="${f(y - 3)}" x2="${WIDTH - 12}" y2="${f(y - 3)}" stroke="#bbb"/>`,
    );
    for (const c of g.cases) {
      const mid = y + ROW_H / 2;
      const color = colorOf.get(c.config)!;
      const opacity = c.client === 's_time' ? ' fill-opacity="0.5"' : '';
      const stroke = c.client === 's_time' ? ` stroke="${color}" stroke-dasharray="3 2"` : '';
      out.push(text(X1 - 8, mid + 4, rowLabel(c), { size: 11, anchor: 'end' }));
      const w1 = (c.handshakesPerSec / rate.max) * PANEL_W;
      out.push(
        `<rect class="bar" x="${X1}" y="${f(mid - BAR_H / 2)}" width="${f(w1)}" height="${BAR_H}" ` +
          `fill="${color}"${opacity}${stroke}><title>${escapeXml(
            `${rowLabel(c)}, TLS ${c.tls} ${modeLabel(c)}: ${int(c.handshakesPerSec)} handshakes/s, ` +
              `${(c.resumedFraction * 100).toFixed(0)}% resumed`,
          )}</title></rect>`,
      );
      if (c.rounds > 1) {
        const a = X1 + (c.minHandshakesPerSec / rate.max) * PANEL_W;
        const b = X1 + (c.maxHandshakesPerSec / rate.max) * PANEL_W;
        out.push(
          `<path d="M${f(a)} ${f(mid)}H${f(b)}M${f(a)} ${f(mid - 3)}V${f(mid + 3)}` +
            `M${f(b)} ${f(mid - 3)}V${f(mid + 3)}" stroke="#222" stroke-width="1" fill="none"/>`,
        );
      }
      const valueX =
        X1 + (Math.max(c.maxHandshakesPerSec, c.handshakesPerSec) / rate.max) * PANEL_W;
      out.push(text(valueX + 4, mid + 4, int(c.handshakesPerSec), { size: 10, fill: '#333' }));
      const w2 = (c.serverCpuUsPerHandshake / cpu.max) * PANEL_W;
      out.push(
        `<rect class="bar" x="${X2}" y="${f(mid - BAR_H / 2)}" width="${f(w2)}" height="${BAR_H}" ` +
          `fill="${color}"${opacity}${stroke}/>`,
        text(X2 + w2 + 4, mid + 4, int(c.serverCpuUsPerHandshake), { size: 10, fill: '#333' }),
      );
      y += ROW_H;
    }
  }
  // Legend: one swatch per configuration, then the s_time style; wrapped to the width.
  const items = [...new Set(result.cases.map((c) => c.config))].map((config) => ({
    swatch: `fill="${colorOf.get(config)!}"`,
    label: result.cases.find((x) => x.config === config)!.label,
  }));
  items.push({
    swatch: 'fill="#3a3a3a" fill-opacity="0.5" stroke="#3a3a3a" stroke-dasharray="3 2"',
    label: '← s_time: driven by openssl s_time (other rows: our Node client)',
  });
  let lx = LEFT;
  let ly = bottom + 34;
  for (const item of items) {
    const w = 24 + item.label.length * 6;
    if (lx > LEFT && lx + w > WIDTH - 12) {
      lx = LEFT;
      ly += 17;
    }
    out.push(
      `<rect x="${lx}" y="${ly - 9}" width="11" height="11" ${item.swatch}/>`,
      text(lx + 15, ly, item.label, { size: 10.5 }),
    );
    lx += w;
  }
  out.push(
    text(
      LEFT,
      ly + 20,
      'On 2 cores our load client saturates first: server CPU per handshake compares the servers ' +
        'more fairly than handshakes/s. s_server serves one connection at a time.',
      { size: 10, fill: '#555' },
    ),
  );
  const height = ly + 34;
  out[0] = svgOpen(height);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
