/**
 * The HTML report's page: one self-contained document (inline CSS and SVG, a few lines of inline script, nothing
 * fetched), plus the small SVG helpers the scenario timeline and the bench charts share. Every text goes through
 * `esc()`; callers redact before.
 */

export function esc(s: unknown): string {
  return String(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const CSS = `
:root { --fg:#1d2330; --dim:#5d6675; --line:#d8dde6; --pass:#1a7f37; --fail:#cf222e; --skip:#9a6700; --bg:#fff; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); margin: 24px; background: var(--bg); }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 0; } h3 { font-size: 14px; margin: 16px 0 6px; }
.meta { color: var(--dim); margin-bottom: 16px; }
section.card { border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; margin: 0 0 18px; }
.head { display: flex; gap: 12px; align-items: baseline; flex-wrap: wrap; }
.badge { font-weight: 600; font-size: 12px; padding: 1px 8px; border-radius: 10px; color: #fff; }
.badge.passed { background: var(--pass); } .badge.failed { background: var(--fail); }
.badge.skipped, .badge.interrupted { background: var(--skip); }
.note { color: var(--dim); }
table { border-collapse: collapse; width: 100%; font-size: 12.5px; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--dim); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.kind { white-space: nowrap; } code { font-size: 12px; }
svg { width: 100%; height: auto; display: block; }
svg text { font: 11px system-ui, sans-serif; fill: var(--fg); }
svg .axis { stroke: var(--line); } svg .grid { stroke: #eef1f5; }
details summary { cursor: pointer; color: var(--dim); margin-top: 8px; }
.legend { display: flex; gap: 14px; flex-wrap: wrap; font-size: 12px; color: var(--dim); margin: 6px 0; }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
.summary td, .summary th { font-size: 13px; }
`;

/** A tiny progressive enhancement: clicking a timeline mark highlights its row in the event table. */
const SCRIPT = `
document.addEventListener('click', function (e) {
  var t = e.target && e.target.closest ? e.target.closest('[data-ev]') : null;
  if (!t) return;
  var row = document.getElementById(t.getAttribute('data-ev'));
  if (!row) return;
  document.querySelectorAll('tr.hl').forEach(function (r) { r.classList.remove('hl'); });
  row.classList.add('hl');
  var d = row.closest('details'); if (d) d.open = true;
  row.scrollIntoView({ block: 'nearest' });
});
`;

export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title>
<style>${CSS} tr.hl td { background: #fff8c5; }</style>
</head>
<body>
${body}
<script>${SCRIPT}</script>
</body>
</html>
`;
}

/** Round tick steps (1, 2, 5 × 10^k) so an axis from 0 to `max` has about `n` ticks. */
export function ticks(max: number, n = 8): number[] {
  if (!(max > 0)) return [0];
  const raw = max / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = 0; v <= max + step * 1e-9; v += step) out.push(Math.round(v * 1e6) / 1e6);
  return out;
}

export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${s >= 10 ? s.toFixed(0) : s.toFixed(1)} s`;
}

export interface Series {
  name: string;
  color: string;
  points: [number, number][];
}

/** A line chart (growth curve, CDF): x and y axes from 0, one polyline with dots per series. */
export function lineChart(o: {
  series: Series[];
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  step?: boolean;
}): string {
  const W = o.width ?? 640;
  const H = o.height ?? 260;
  const L = 56;
  const B = 36;
  const T = 12;
  const R = 16;
  const xs = o.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = o.series.flatMap((s) => s.points.map((p) => p[1]));
  const xMax = Math.max(1e-9, ...xs);
  const yMax = Math.max(1e-9, ...ys);
  const x = (v: number) => L + (v / xMax) * (W - L - R);
  const y = (v: number) => H - B - (v / yMax) * (H - B - T);
  const parts: string[] = [];
  for (const t of ticks(yMax, 5))
    parts.push(
      `<line class="grid" x1="${L}" x2="${W - R}" y1="${y(t)}" y2="${y(t)}"/><text x="${L - 6}" y="${y(t) + 4}" text-anchor="end">${esc(t)}</text>`,
    );
  for (const t of ticks(xMax, 6))
    parts.push(`<text x="${x(t)}" y="${H - B + 16}" text-anchor="middle">${esc(t)}</text>`);
  parts.push(`<line class="axis" x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}"/>`);
  parts.push(`<line class="axis" x1="${L}" x2="${L}" y1="${T}" y2="${H - B}"/>`);
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 4}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  parts.push(
    `<text transform="translate(14 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`,
  );
  for (const s of o.series) {
    const pts = [...s.points].sort((a, b) => a[0] - b[0]);
    const path = o.step
      ? pts.map((p, i) => `${i ? `H${x(p[0])}V` : `M${x(p[0])} `}${y(p[1])}`).join('')
      : pts.map((p, i) => `${i ? 'L' : 'M'}${x(p[0])} ${y(p[1])}`).join('');
    parts.push(`<path d="${path}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    if (!o.step)
      for (const p of pts)
        parts.push(
          `<circle cx="${x(p[0])}" cy="${y(p[1])}" r="3.5" fill="${s.color}"><title>${esc(`${s.name}: ${p[0]} → ${p[1]}`)}</title></circle>`,
        );
  }
  return `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(o.yLabel)} by ${esc(o.xLabel)}">${parts.join('')}</svg>`;
}

/** A histogram of values in `bins` equal bins, with an optional vertical marker (the refresh window). */
export function histogram(o: {
  values: number[];
  bins?: number;
  xLabel: string;
  marker?: { at: number; label: string };
  width?: number;
  height?: number;
}): string {
  const W = o.width ?? 640;
  const H = o.height ?? 220;
  const L = 44;
  const B = 36;
  const T = 12;
  const R = 16;
  const max = Math.max(1, ...o.values, o.marker?.at ?? 0);
  const n = o.bins ?? 30;
  const counts = new Array<number>(n).fill(0);
  for (const v of o.values) counts[Math.min(n - 1, Math.floor((v / max) * n))]! += 1;
  const cMax = Math.max(1, ...counts);
  const bw = (W - L - R) / n;
  const y = (c: number) => H - B - (c / cMax) * (H - B - T);
  const parts: string[] = [];
  for (const t of ticks(cMax, 4))
    parts.push(
      `<line class="grid" x1="${L}" x2="${W - R}" y1="${y(t)}" y2="${y(t)}"/><text x="${L - 6}" y="${y(t) + 4}" text-anchor="end">${esc(t)}</text>`,
    );
  counts.forEach((c, i) => {
    const lo = Math.round((i * max) / n);
    const hi = Math.round(((i + 1) * max) / n);
    parts.push(
      `<rect x="${L + i * bw + 1}" y="${y(c)}" width="${Math.max(1, bw - 2)}" height="${H - B - y(c)}" fill="#3b82f6"><title>${esc(`${lo}–${hi} ms: ${c}`)}</title></rect>`,
    );
  });
  const x = (v: number) => L + (v / max) * (W - L - R);
  for (const t of ticks(max, 6))
    parts.push(`<text x="${x(t)}" y="${H - B + 16}" text-anchor="middle">${esc(t)}</text>`);
  parts.push(`<line class="axis" x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}"/>`);
  if (o.marker)
    parts.push(
      `<line x1="${x(o.marker.at)}" x2="${x(o.marker.at)}" y1="${T}" y2="${H - B}" stroke="#cf222e" stroke-dasharray="4 3"/><text x="${x(o.marker.at) - 4}" y="${T + 10}" text-anchor="end" fill="#cf222e">${esc(o.marker.label)}</text>`,
    );
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 4}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  return `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="histogram of ${esc(o.xLabel)}">${parts.join('')}</svg>`;
}
