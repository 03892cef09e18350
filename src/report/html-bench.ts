/**
 * `bench … --report-html FILE`: the benchmark's result as one self-contained page. For `bench scale`: per size the
 * latency distribution (histogram and CDF) against the refresh window, and with `--curve` how each figure grows
 * with N; for the other benchmarks their figures as a table. Redacted and written 0600 like every report.
 */
import { esc, histogram, lineChart, page } from './html-page.ts';
import type { SecretRegistry } from '../secrets/secret-registry.ts';
import { redactDeep, writeReportFile } from './report-file.ts';

type Json = Record<string, unknown>;

/** Leaf figures of a nested result as `a.b.c = value` rows (arrays of numbers summarised). */
function figureRows(o: unknown, prefix = ''): [string, string][] {
  if (o === null || typeof o !== 'object') return [[prefix, String(o)]];
  if (Array.isArray(o))
    return o.every((x) => typeof x === 'number')
      ? [[prefix, o.length > 12 ? `${o.length} values` : o.join(', ')]]
      : o.flatMap((x, i) => figureRows(x, `${prefix}[${i}]`));
  return Object.entries(o as Json).flatMap(([k, v]) => figureRows(v, prefix ? `${prefix}.${k}` : k));
}

function figuresTable(o: unknown): string {
  return `<table><tbody>${figureRows(o)
    .map(([k, v]) => `<tr><td><code>${esc(k)}</code></td><td class="num">${esc(v)}</td></tr>`)
    .join('')}</tbody></table>`;
}

interface ScaleRun {
  count: number;
  windowMs: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number; sortedMs: number[] };
  withinWindow: number;
  missed: number;
  eso: { cpuSeconds: number };
  vault: { requestsPerSecond: number };
  lab: { rssMiB: number };
  harness: { watch: { cpuSeconds: number }; poller: { cpuSeconds: number }; pollerToWatchCpuRatio: number };
}

function scaleSections(runs: ScaleRun[]): string {
  const out: string[] = [];
  for (const r of runs) {
    const cdf = r.latencyMs.sortedMs.map((v, i, a) => [v, (i + 1) / a.length] as [number, number]);
    out.push(`<section class="card scale-run" data-count="${r.count}">
<div class="head"><h2>N = ${r.count}</h2><span class="badge ${r.withinWindow === r.count ? 'passed' : 'failed'}">${r.withinWindow}/${r.count} within window</span><span class="note">p50 ${esc(r.latencyMs.p50)} ms · p95 ${esc(r.latencyMs.p95)} ms · p99 ${esc(r.latencyMs.p99)} ms · max ${esc(r.latencyMs.max)} ms · window ${esc(r.windowMs)} ms · missed ${r.missed}</span></div>
<h3>Rotation → Secret latency</h3>
${histogram({ values: r.latencyMs.sortedMs, xLabel: 'latency (ms) from Vault ack to the watch event', marker: { at: r.windowMs, label: 'refresh window' } })}
<h3>Cumulative distribution</h3>
${lineChart({ series: [{ name: `N=${r.count}`, color: '#3b82f6', points: cdf }], xLabel: 'latency (ms)', yLabel: 'fraction of Secrets updated', step: true, height: 220 })}
<p class="note">ESO ${esc(r.eso.cpuSeconds)} CPU s · Vault ${esc(r.vault.requestsPerSecond)} req/s · lab ${esc(r.lab.rssMiB)} MiB · harness CPU: watch ${esc(r.harness.watch.cpuSeconds)} s alone; on a second rotation both observe, poller ${esc(r.harness.poller.cpuSeconds)} s (×${esc(r.harness.pollerToWatchCpuRatio)} the watch's)</p>
</section>`);
  }
  if (runs.length > 1) {
    const line = (name: string, color: string, f: (r: ScaleRun) => number) => ({
      name,
      color,
      points: runs.map((r) => [r.count, f(r)] as [number, number]),
    });
    out.push(`<section class="card curve"><h2>Growth with N</h2>
<h3>Latency</h3>${lineChart({ series: [line('p95', '#3b82f6', (r) => r.latencyMs.p95), line('max', '#cf222e', (r) => r.latencyMs.max)], xLabel: 'ExternalSecrets (N)', yLabel: 'ms' })}
<h3>CPU seconds for one rotation of all N</h3>${lineChart({ series: [line('ESO', '#bf8700', (r) => r.eso.cpuSeconds), line('poller harness', '#cf222e', (r) => r.harness.poller.cpuSeconds), line('watch harness', '#1a7f37', (r) => r.harness.watch.cpuSeconds)], xLabel: 'ExternalSecrets (N)', yLabel: 'CPU s' })}
<div class="legend"><span><i style="background:#bf8700"></i>ESO</span><span><i style="background:#cf222e"></i>poller</span><span><i style="background:#1a7f37"></i>watch</span><span><i style="background:#3b82f6"></i>p95</span></div>
</section>`);
  }
  return out.join('\n');
}

export function renderBenchHtml(result: Json, registry: SecretRegistry): string {
  const r = redactDeep(result, registry);
  const name = String(r.benchmark ?? 'bench');
  const runs = name === 'scale' && Array.isArray(r.runs) ? (r.runs as ScaleRun[]) : [];
  const body = `<h1>vault-eso-lab bench ${esc(name)}</h1>
<div class="meta">${esc(r.description ?? '')}</div>
${scaleSections(runs)}
<section class="card"><h2>Figures</h2>${figuresTable(r)}</section>`;
  return page(`vault-eso-lab bench ${name}`, body);
}

export async function writeBenchHtml(file: string, result: Json, registry: SecretRegistry): Promise<void> {
  await writeReportFile(file, renderBenchHtml(result, registry));
}
