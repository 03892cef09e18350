/**
 * `--report-html FILE`: one self-contained page (no network) with, per scenario, a timeline of what happened —
 * steps and operations, faults, Vault writes, ESO's refreshes, Secret watch events, the refresh window as a band —
 * and the same events as a table in time order. Unknown timed kinds (pod hops, …) get a lane of their own. Every
 * text is redacted (values appear only as short hashes) and the file is written 0600 like the other reports.
 */
import { esc, formatSeconds, page, ticks } from './html-page.ts';
import type { SecretRegistry } from '../secrets/secret-registry.ts';
import { redactDeep, writeReportFile } from './report-file.ts';
import { scenarioOutcome, type RunReport, type ScenarioReport, type TimelineEntry } from './report-model.ts';
import type { Reporter } from './reporter.ts';

interface Lane {
  name: string;
  color: string;
  match(kind: string): boolean;
}

/** Known lanes, top to bottom; anything else gets a lane named after its kind (grey). */
const LANES: Lane[] = [
  { name: 'steps', color: '#6e7781', match: (k) => k === 'step' },
  { name: 'operations', color: '#3b82f6', match: (k) => k === 'operation' || k === 'cleanup' },
  { name: 'faults', color: '#cf222e', match: (k) => k === 'fault' || k === 'interrupted' },
  { name: 'Vault writes', color: '#8250df', match: (k) => k === 'vault.write' || k.startsWith('vault.') },
  { name: 'ESO', color: '#bf8700', match: (k) => k.startsWith('eso.') },
  { name: 'Secret', color: '#1a7f37', match: (k) => k.startsWith('secret.') },
  { name: 'pods', color: '#0969da', match: (k) => k.startsWith('pod.') },
];
const WINDOW = 'refresh.window';

/** ESO refreshes appear in rotation facts (status.refreshTime); they get their own marks in the ESO lane. */
function withDerived(entries: readonly TimelineEntry[]): TimelineEntry[] {
  const out = [...entries];
  for (const e of entries) {
    const refresh = e.facts?.esoRefreshTime;
    if (e.kind === WINDOW && typeof refresh === 'string' && !Number.isNaN(Date.parse(refresh)))
      out.push({ at: refresh, kind: 'eso.refresh', label: 'ESO refreshTime (status, 1 s resolution)' });
  }
  return out.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

function factsText(f: TimelineEntry['facts']): string {
  if (!f) return '';
  return Object.entries(f)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
}

export function scenarioTimelineSvg(s: ScenarioReport, id: string): string {
  const entries = withDerived(s.timeline ?? []);
  const t0 = Date.parse(s.startedAt);
  const ends = entries.map((e) => Date.parse(e.endAt ?? e.at));
  const span = Math.max(1000, s.durationMs, ...ends.map((t) => t - t0));
  const lanes: Lane[] = [];
  const laneOf = (kind: string): Lane | undefined => {
    if (kind === WINDOW) return undefined;
    const known = LANES.find((l) => l.match(kind));
    const lane = known ?? { name: kind, color: '#57606a', match: (k: string) => k === kind };
    if (!lanes.includes(lane)) lanes.push(lane);
    return lane;
  };
  for (const e of entries) laneOf(e.kind);
  lanes.sort((a, b) => {
    const ia = LANES.indexOf(a);
    const ib = LANES.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.name.localeCompare(b.name);
  });
  const W = 1000;
  const L = 110;
  const R = 12;
  const laneH = 26;
  const T = 8;
  const H = T + lanes.length * laneH + 28;
  const x = (at: number) => L + ((at - t0) / span) * (W - L - R);
  const parts: string[] = [];
  for (const t of ticks(span / 1000, 10)) {
    const px = x(t0 + t * 1000);
    parts.push(
      `<line class="grid" x1="${px}" x2="${px}" y1="${T}" y2="${H - 24}"/><text x="${px}" y="${H - 8}" text-anchor="middle">${esc(`${t} s`)}</text>`,
    );
  }
  // Refresh windows first, as bands behind everything: from Vault's acknowledgement to ack + window.
  entries.forEach((e, i) => {
    if (e.kind !== WINDOW) return;
    const a = x(Date.parse(e.at));
    const b = x(Date.parse(e.endAt ?? e.at));
    const within = e.facts?.withinWindow;
    parts.push(
      `<rect data-ev="${id}-ev${i}" class="band" x="${a}" y="${T}" width="${Math.max(1, b - a)}" height="${lanes.length * laneH}" fill="${within === false ? '#ffebe9' : '#dafbe1'}" stroke="${within === false ? '#cf222e' : '#1a7f37'}" stroke-opacity="0.5"><title>${esc(`${e.label}: ${factsText(e.facts)}`)}</title></rect>`,
    );
    const observed = e.facts?.observedAt;
    if (typeof observed === 'string') {
      const o = x(Date.parse(observed));
      parts.push(
        `<line x1="${o}" x2="${o}" y1="${T}" y2="${T + lanes.length * laneH}" stroke="#1a7f37" stroke-width="1.5" stroke-dasharray="3 2"><title>${esc(`new value observed: ${String(e.facts?.latencyMs ?? '?')} ms after Vault's ack`)}</title></line>`,
      );
    }
  });
  lanes.forEach((lane, li) => {
    const y = T + li * laneH;
    parts.push(
      `<line class="axis" x1="${L}" x2="${W - R}" y1="${y + laneH}" y2="${y + laneH}"/><text x="${L - 8}" y="${y + laneH / 2 + 4}" text-anchor="end">${esc(lane.name)}</text>`,
    );
  });
  parts.push(`<line class="axis" x1="${L}" x2="${L}" y1="${T}" y2="${T + lanes.length * laneH}"/>`);
  entries.forEach((e, i) => {
    if (e.kind === WINDOW) return;
    const lane = laneOf(e.kind)!;
    const li = lanes.indexOf(lane);
    const y = T + li * laneH;
    const a = x(Date.parse(e.at));
    const failed = e.facts?.passed === false;
    const color = failed ? '#cf222e' : lane.color;
    const title = `<title>${esc(`${new Date(e.at).toISOString().slice(11, 23)} ${e.kind}: ${e.label} ${factsText(e.facts)}`)}</title>`;
    if (e.endAt) {
      const b = x(Date.parse(e.endAt));
      parts.push(
        `<rect data-ev="${id}-ev${i}" data-kind="${esc(e.kind)}" x="${a}" y="${y + 6}" width="${Math.max(2, b - a)}" height="${laneH - 12}" rx="3" fill="${color}" fill-opacity="0.75">${title}</rect>`,
      );
    } else if (e.kind === 'step') {
      // The label gets the room up to the next step (about 6 px a character), or none.
      const next = entries.slice(i + 1).find((n) => n.kind === 'step');
      const room = Math.floor(((next ? x(Date.parse(next.at)) : W - R) - a - 8) / 6);
      const text = room < 3 ? '' : e.label.length > room ? `${e.label.slice(0, room - 1)}…` : e.label;
      parts.push(
        `<g data-ev="${id}-ev${i}" data-kind="step"><line x1="${a}" x2="${a}" y1="${y + 3}" y2="${y + laneH - 3}" stroke="${color}" stroke-width="2"/><text x="${a + 4}" y="${y + laneH / 2 + 4}">${esc(text)}</text>${title}</g>`,
      );
    } else {
      const cy = y + laneH / 2;
      parts.push(
        `<path data-ev="${id}-ev${i}" data-kind="${esc(e.kind)}" d="M${a} ${cy - 6}L${a + 6} ${cy}L${a} ${cy + 6}L${a - 6} ${cy}Z" fill="${color}">${title}</path>`,
      );
    }
  });
  return `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="timeline of ${esc(s.scenario)}">${parts.join('')}</svg>`;
}

function eventTable(s: ScenarioReport, id: string): string {
  const entries = withDerived(s.timeline ?? []);
  const t0 = Date.parse(s.startedAt);
  const rows = entries.map(
    (e, i) =>
      `<tr id="${id}-ev${i}" data-at="${esc(e.at)}" data-kind="${esc(e.kind)}"><td class="num">${esc(formatSeconds(Date.parse(e.at) - t0))}</td><td class="num">${e.endAt ? esc(`${Date.parse(e.endAt) - Date.parse(e.at)} ms`) : ''}</td><td class="kind"><code>${esc(e.kind)}</code></td><td>${esc(e.label)}</td><td><code>${esc(factsText(e.facts))}</code></td></tr>`,
  );
  return `<details><summary>${entries.length} events in time order</summary><table class="events"><thead><tr><th>at</th><th>lasted</th><th>kind</th><th>what</th><th>facts</th></tr></thead><tbody>${rows.join('')}</tbody></table></details>`;
}

function scenarioSection(s: ScenarioReport, index: number): string {
  const id = `s${index}`;
  const outcome = scenarioOutcome(s);
  const note =
    s.skipped ??
    (typeof s.exclusive === 'string'
      ? `ran alone: ${s.exclusive}`
      : s.privateVault
        ? `on a Vault server of its own (${s.privateVault})`
        : '');
  const rotations = s.rotations.length
    ? `<h3>Rotations</h3><table><thead><tr><th>path</th><th>keys</th><th>latency</th><th>window</th><th>within?</th></tr></thead><tbody>${s.rotations
        .map(
          (r) =>
            `<tr><td><code>${esc(r.path)}</code></td><td>${esc(r.keys.join(', '))}</td><td class="num">${r.latencyMs === undefined ? '–' : esc(`${Math.round(r.latencyMs)} ms`)}</td><td class="num">${esc(`${Math.round(r.windowMs)} ms`)}</td><td>${r.withinWindow === undefined ? '–' : r.withinWindow ? 'yes' : '<b style="color:var(--fail)">no</b>'}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : '';
  const failures = s.steps
    .flatMap((st) => st.operations.filter((o) => !o.passed).map((o) => ({ st, o })))
    .map(
      ({ st, o }) =>
        `<p><b>${esc(st.name)}</b>: <code>${esc(o.operation)}</code> ${esc(o.error ?? 'failed')}${o.diagnosis ? `<br><i>diagnosis:</i> ${esc(o.diagnosis)}` : ''}</p>`,
    )
    .join('');
  const timeline = s.timeline?.length
    ? `<div class="legend"><span><i style="background:#dafbe1;border:1px solid #1a7f37"></i>refresh window (from Vault's ack)</span><span><i style="background:#1a7f37"></i>Secret event</span><span><i style="background:#8250df"></i>Vault write</span><span><i style="background:#cf222e"></i>fault / failure</span></div>${scenarioTimelineSvg(s, id)}${eventTable(s, id)}`
    : '<p class="note">no timeline recorded</p>';
  return `<section class="card scenario" id="${id}" data-scenario="${esc(s.scenario)}" data-outcome="${outcome}">
<div class="head"><h2>${esc(s.scenario)}</h2><span class="badge ${outcome}">${outcome.toUpperCase()}</span><span class="note">${esc(formatSeconds(s.durationMs))} · ${esc(s.file)}${note ? ` · ${esc(note)}` : ''}</span></div>
${s.description ? `<p class="note">${esc(s.description)}</p>` : ''}${failures}${s.steps.length || s.skipped === undefined ? timeline : ''}${rotations}
</section>`;
}

export function renderHtmlReport(run: RunReport, registry: SecretRegistry): string {
  const r = redactDeep(run, registry);
  const counts = { passed: 0, failed: 0, skipped: 0, interrupted: 0 };
  for (const s of r.scenarios) counts[scenarioOutcome(s)] += 1;
  const summary = `<table class="summary"><thead><tr><th>scenario</th><th>result</th><th>duration</th><th>started</th></tr></thead><tbody>${r.scenarios
    .map(
      (s, i) =>
        `<tr><td><a href="#s${i}">${esc(s.scenario)}</a></td><td><span class="badge ${scenarioOutcome(s)}">${scenarioOutcome(s).toUpperCase()}</span></td><td class="num">${esc(formatSeconds(s.durationMs))}</td><td class="num">${esc(formatSeconds(Date.parse(s.startedAt) - Date.parse(r.startedAt)))}</td></tr>`,
    )
    .join('')}</tbody></table>`;
  const versions = Object.entries(r.versions)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const body = `<h1>vault-eso-lab: ${r.passed ? 'PASS' : 'FAIL'} — ${counts.passed} passed, ${counts.failed} failed${counts.skipped ? `, ${counts.skipped} skipped` : ''}${r.interrupted ? ', interrupted' : ''}</h1>
<div class="meta">${esc(r.provider)} lab · ${esc(r.startedAt)} · ${esc(formatSeconds(r.durationMs))} wall${versions ? ` · ${esc(versions)}` : ''}</div>
<section class="card">${summary}</section>
${r.scenarios.map((s, i) => scenarioSection(s, i)).join('\n')}`;
  return page(`vault-eso-lab report (${r.passed ? 'PASS' : 'FAIL'})`, body);
}

export class HtmlReporter implements Reporter {
  readonly name = 'html';
  constructor(
    readonly file: string,
    private readonly registry: SecretRegistry,
  ) {}

  async onRunEnd(run: RunReport): Promise<void> {
    await writeReportFile(this.file, renderHtmlReport(run, this.registry));
  }
}
