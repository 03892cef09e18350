/**
 * Progress on stderr, one line per operation (failures followed by their diagnosis and evidence, indented), and
 * a final summary on stdout: each scenario with PASS/FAIL and duration, then the rotations table. On a TTY the
 * running operation shows as a pending line that its result replaces. Every line passes through redact().
 */
import { paint, table, type Output } from '../cli/output.ts';
import { formatMs } from '../errors.ts';
import type { RunEvent } from './events.ts';
import type { SecretRegistry } from './redact.ts';
import { distinctRotations, scenarioOutcome, type RunReport, type ScenarioReport } from './report-model.ts';
import type { Reporter } from './reporter.ts';

export interface ConsoleReporterOptions {
  /** Print the summary on stdout at the end (default true). */
  summary?: boolean;
  registry: SecretRegistry;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001a\u001c-\u001f\u007f]/g;

type OperationEnd = Extract<RunEvent, { kind: 'operation.end' }>;

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export class ConsoleReporter implements Reporter {
  readonly name = 'console';
  private pending = false;
  private spinner: NodeJS.Timeout | undefined;
  private readonly summary: boolean;
  private readonly registry: SecretRegistry;

  constructor(
    private readonly out: Output,
    options: ConsoleReporterOptions,
  ) {
    this.summary = options.summary ?? true;
    this.registry = options.registry;
  }

  onEvent(e: RunEvent): void {
    switch (e.kind) {
      case 'scenario.start':
        this.line(
          `${paint(this.out, 'bold', e.scenario)} ${paint(this.out, 'dim', `(${e.file}, ${e.provider})`)}`,
        );
        break;
      case 'step.start':
        this.line(`  ${paint(this.out, 'cyan', '●')} ${e.step}`);
        break;
      case 'step.skipped':
        this.line(`  ${paint(this.out, 'dim', `○ ${e.step} — skipped: ${e.reason}`)}`);
        break;
      case 'operation.start':
        if (this.out.interactive) {
          this.finishPending();
          this.startSpinner(opLabel(e));
        }
        break;
      case 'operation.end':
        this.operationEnd(e);
        break;
      case 'scenario.interrupted':
        this.line(paint(this.out, 'yellow', `  interrupted (${e.reason}): cleaning up…`));
        break;
      case 'scenario.end': {
        const verdict = e.skipped
          ? paint(this.out, 'yellow', `skipped: ${e.skipped}`)
          : e.passed
            ? paint(this.out, 'green', 'passed')
            : paint(this.out, 'red', 'failed');
        this.line(`${e.scenario} ${verdict} in ${formatMs(e.durationMs)}`);
        break;
      }
      case 'lab.component.ready':
        this.line(
          `  ${e.component} ready in ${formatMs(e.durationMs)}${e.pid ? ` (pid ${e.pid}${e.port ? `, port ${e.port}` : ''})` : ''}`,
        );
        break;
      case 'lab.component.built':
        this.line(`  ${e.component} ${e.cached ? 'cached' : `built in ${formatMs(e.durationMs)}`}`);
        break;
      case 'lab.ready':
        this.line(`lab ${e.labId} (${e.provider}) ready in ${formatMs(e.durationMs)}`);
        break;
      case 'lab.info':
        this.line(e.message);
        break;
      default:
        // step.end, rotation, cleanup.error and the chattier lab events are covered elsewhere (operation
        // lines, the summary) or not worth a line.
        break;
    }
  }

  onRunEnd(run: RunReport): void {
    this.finishPending();
    for (const s of run.scenarios) {
      if (s.keptCleanups?.length)
        this.line(`kept (--keep), not cleaned up for ${s.scenario}: ${s.keptCleanups.join('; ')}`);
    }
    if (!this.summary) return;
    const result = (line: string) => this.out.result(this.redact(line));
    result('');
    result(
      table(
        run.scenarios.map((s) => [s.scenario, this.verdict(s), formatMs(s.durationMs), scenarioNote(s)]),
        ['scenario', 'result', 'duration', 'note'],
      ),
    );
    const rotations = run.scenarios.flatMap((s) => s.rotations.map((r) => ({ s: s.scenario, r })));
    if (rotations.length) {
      const many = run.scenarios.length > 1;
      const secretsChecked = new Set(rotations.map(({ r }) => r.secret).filter(Boolean)).size > 1;
      result('');
      result(
        table(
          rotations.map(({ s, r }) => [
            ...(many ? [s] : []),
            ...(secretsChecked ? [r.secret ?? '-'] : []),
            r.path,
            r.keys.join(','),
            r.latencyMs === undefined ? '-' : String(Math.round(r.latencyMs)),
            String(Math.round(r.windowMs)),
            r.withinWindow === undefined ? '-' : r.withinWindow ? 'yes' : paint(this.out, 'red', 'no'),
          ]),
          [
            ...(many ? ['scenario'] : []),
            ...(secretsChecked ? ['secret'] : []),
            'path',
            'keys',
            'latency ms',
            'window ms',
            'within?',
          ],
        ),
      );
    }
    const n = (o: string) => run.scenarios.filter((s) => scenarioOutcome(s) === o).length;
    const parts = [`${n('passed')} passed`, `${n('failed')} failed`];
    if (n('skipped')) parts.push(`${n('skipped')} skipped`);
    if (run.interrupted) parts.push('interrupted');
    result('');
    result(
      `${run.passed ? paint(this.out, 'green', 'PASS') : paint(this.out, 'red', 'FAIL')} ${parts.join(', ')} in ${formatMs(run.durationMs)} (${run.provider})`,
    );
  }

  private operationEnd(e: OperationEnd): void {
    const mark = e.passed ? paint(this.out, 'green', '✓') : paint(this.out, 'red', '✗');
    const facts = e.facts
      ? paint(
          this.out,
          'dim',
          ` ${Object.entries(e.facts)
            .map(([k, v]) => `${k}=${String(v)}`)
            .join(' ')}`,
        )
      : '';
    const text = `    ${mark} ${opLabel(e)} ${paint(this.out, 'dim', formatMs(e.durationMs))}${facts}`;
    if (this.pending) {
      this.stopSpinner();
      this.out.stderr.write(this.redact(`\r\u001b[2K${text}\n`));
      this.pending = false;
    } else this.line(text);
    if (e.passed) return;
    for (const [i, l] of (e.error ?? 'failed').split('\n').entries())
      this.line(`      ${i === 0 ? paint(this.out, 'red', l) : l}`);
    if (e.diagnosis) this.line(`      ${paint(this.out, 'yellow', 'diagnosis:')} ${e.diagnosis}`);
    if (e.evidence?.length) {
      this.line(`      evidence:`);
      for (const ev of e.evidence) for (const l of ev.split('\n')) this.line(`        ${l}`);
    }
  }

  private verdict(s: ScenarioReport): string {
    const o = scenarioOutcome(s);
    if (o === 'passed') return paint(this.out, 'green', 'PASS');
    if (o === 'skipped') return paint(this.out, 'yellow', 'SKIP');
    if (o === 'interrupted') return paint(this.out, 'yellow', 'INTERRUPTED');
    return paint(this.out, 'red', 'FAIL');
  }

  private line(text: string): void {
    this.finishPending();
    this.out.info(this.redact(text));
  }

  /** On a terminal, the running operation's line spins and shows its elapsed time until its result replaces it. */
  private startSpinner(label: string): void {
    const since = Date.now();
    const render = () => {
      const elapsed = Date.now() - since;
      const frame = SPINNER[Math.floor(elapsed / 100) % SPINNER.length] ?? '…';
      const time = elapsed >= 1000 ? ` ${paint(this.out, 'dim', formatMs(elapsed))}` : '';
      this.out.stderr.write(this.redact(`\r\u001b[2K    ${paint(this.out, 'cyan', frame)} ${label}${time}`));
    };
    this.pending = true;
    render();
    this.spinner = setInterval(render, 100);
    this.spinner.unref();
  }

  private stopSpinner(): void {
    if (this.spinner) clearInterval(this.spinner);
    this.spinner = undefined;
  }

  private finishPending(): void {
    this.stopSpinner();
    if (this.pending) {
      this.out.stderr.write('\n');
      this.pending = false;
    }
  }

  private redact(text: string): string {
    // Control characters from error texts (bells, cursor moves) would garble the terminal; colours stay.
    return this.registry.redact(text).replace(CONTROL, '?');
  }
}

function opLabel(e: { operation: string; summary: string; phase: string }): string {
  const phase = e.phase === 'try' ? '' : `[${e.phase}] `;
  return `${phase}${e.operation}${e.summary && e.summary !== e.operation ? ` ${e.summary}` : ''}`;
}

/**
 * The key timings of a passed scenario, from its operations' facts: the first sync, the rotation latencies, how
 * long a Secret was held unchanged, and the time from a marked operation (unsealVault, forceSync, …) to the Secret.
 */
export function keyTimings(s: ScenarioReport): string {
  const parts: string[] = [];
  const ops = s.steps.flatMap((st) => st.operations).filter((o) => o.passed && o.facts);
  const first = ops.find((o) => o.operation === 'assertSecret' && typeof o.facts?.latencyMs === 'number');
  if (first && s.rotations.length === 0) parts.push(`first sync ${formatMs(Number(first.facts?.latencyMs))}`);
  const measured = s.rotations.filter((r) => r.latencyMs !== undefined);
  const lat = measured.map((r) => r.latencyMs as number);
  if (lat.length) {
    const writes = distinctRotations(measured);
    const checks = lat.length > writes ? ` (${lat.length} Secret checks)` : '';
    parts.push(
      `${writes} rotation${writes === 1 ? '' : 's'}${checks} ${formatMs(Math.min(...lat))}${lat.length > 1 ? `–${formatMs(Math.max(...lat))}` : ''}`,
    );
  }
  for (const o of ops) {
    const f = o.facts ?? {};
    if (o.operation === 'expectUnchanged' && typeof f.watchedMs === 'number')
      parts.push(`unchanged ${formatMs(f.watchedMs)}`);
    for (const [k, v] of Object.entries(f))
      if (k.endsWith('ToSecretMs') && typeof v === 'number')
        parts.push(
          `${k.slice(0, -'ToSecretMs'.length)}→Secret ${formatMs(v)}${f.backoffDelayed === true ? ' (backoff delayed it)' : f.backoffDelayed === false ? ' (no backoff delay)' : ''}`,
        );
  }
  return [...new Set(parts)].slice(0, 4).join('; ');
}

function scenarioNote(s: ScenarioReport): string {
  if (s.skipped) return s.skipped;
  if (s.passed && s.cleanupErrors.length === 0) return keyTimings(s);
  const notes: string[] = [];
  for (const step of s.steps)
    for (const op of step.operations)
      if (!op.passed) {
        notes.push(`${step.name}: ${op.operation}: ${(op.error ?? 'failed').split('\n')[0]}`);
        break;
      }
  if (s.cleanupErrors.length) notes.push(`${s.cleanupErrors.length} cleanup error(s)`);
  return notes.slice(0, 2).join('; ');
}
