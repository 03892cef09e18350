/**
 * `--report-junit FILE`: one <testsuite> per run, one <testcase> per scenario. A failed scenario carries a
 * <failure> whose message is the first failed operation and whose text lists every failure with its diagnosis
 * and evidence; an interrupted one an <error>; a skipped one <skipped>. Text is redacted, then XML-escaped.
 */
import { formatMs } from '../errors.ts';
import type { SecretRegistry } from '../secrets/secret-registry.ts';
import { firstFailure, scenarioOutcome, type RunReport, type ScenarioReport } from './report-model.ts';
import { writeReportFile } from './report-file.ts';
import type { Reporter } from './reporter.ts';

/** Characters XML 1.0 does not allow at all (control characters other than tab/newline/CR, lone surrogates). */
const INVALID_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function xmlEscape(text: string): string {
  return text
    .replace(INVALID_XML, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

export function renderJunit(run: RunReport, registry: SecretRegistry): string {
  const r = (s: string) => xmlEscape(registry.redact(s));
  const counts = { tests: run.scenarios.length, failures: 0, errors: 0, skipped: 0 };
  for (const s of run.scenarios) {
    const o = scenarioOutcome(s);
    if (o === 'failed') counts.failures++;
    else if (o === 'interrupted') counts.errors++;
    else if (o === 'skipped') counts.skipped++;
  }
  const attrs = `tests="${counts.tests}" failures="${counts.failures}" errors="${counts.errors}" skipped="${counts.skipped}" time="${seconds(run.durationMs)}"`;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="vault-eso-lab" ${attrs}>`,
    `  <testsuite name="vault-eso-lab scenarios (${r(run.provider)})" ${attrs} timestamp="${r(run.startedAt)}">`,
    '    <properties>',
    `      <property name="provider" value="${r(run.provider)}"/>`,
    ...Object.entries(run.versions).map(
      ([k, v]) => `      <property name="version.${r(k)}" value="${r(v)}"/>`,
    ),
    '    </properties>',
    ...run.scenarios.flatMap((s) => testcase(s, run.provider, r)),
    '  </testsuite>',
    '</testsuites>',
    '',
  ];
  return lines.join('\n');
}

function testcase(s: ScenarioReport, provider: string, r: (s: string) => string): string[] {
  const open = `    <testcase name="${r(s.scenario)}" classname="vault-eso-lab.${r(provider)}" file="${r(s.file)}" time="${seconds(s.durationMs)}"`;
  const body: string[] = [];
  const outcome = scenarioOutcome(s);
  if (outcome === 'skipped') body.push(`      <skipped message="${r(s.skipped ?? '')}"/>`);
  else if (outcome === 'interrupted')
    body.push(`      <error message="interrupted" type="interrupted">${r(failureText(s))}</error>`);
  else if (outcome === 'failed') {
    const first = firstFailure(s);
    const cleanup = s.cleanupErrors[0];
    const message = first
      ? `step "${first.step.name}": ${first.operation.operation} ${first.operation.summary}: ${first.operation.error ?? 'failed'}`
      : cleanup
        ? `cleanup failed: ${cleanup.what}: ${cleanup.error}`
        : 'failed';
    const type = first?.operation.timedOut
      ? 'timeout'
      : (first?.operation.operation ?? (cleanup ? 'cleanup' : 'failure'));
    body.push(`      <failure message="${r(message)}" type="${r(type)}">${r(failureText(s))}</failure>`);
  }
  const out = operationLines(s);
  if (out.length) body.push(`      <system-out>${r(out.join('\n'))}</system-out>`);
  if (s.cleanupErrors.length)
    body.push(
      `      <system-err>${r(s.cleanupErrors.map((c) => `cleanup failed: ${c.what}: ${c.error}`).join('\n'))}</system-err>`,
    );
  return body.length ? [`${open}>`, ...body, '    </testcase>'] : [`${open}/>`];
}

/** Every failed operation with its error, diagnosis and evidence. */
function failureText(s: ScenarioReport): string {
  const out: string[] = [];
  for (const step of s.steps)
    for (const op of step.operations) {
      if (op.passed) continue;
      out.push(`[${step.name}] ${op.phase} ${op.operation} ${op.summary}: ${op.error ?? 'failed'}`);
      if (op.diagnosis) out.push(`  diagnosis: ${op.diagnosis}`);
      for (const e of op.evidence ?? []) out.push(`  evidence: ${e}`);
    }
  return out.join('\n');
}

function operationLines(s: ScenarioReport): string[] {
  const lines: string[] = [];
  for (const step of s.steps) {
    if (step.skipped) {
      lines.push(`[${step.name}] skipped: ${step.skipped}`);
      continue;
    }
    for (const op of step.operations)
      lines.push(
        `[${step.name}] ${op.passed ? 'ok  ' : 'FAIL'} ${op.phase} ${op.operation} ${op.summary} (${formatMs(op.durationMs)})`,
      );
  }
  for (const op of s.cleanups)
    lines.push(`[cleanup] ${op.passed ? 'ok  ' : 'FAIL'} ${op.summary} (${formatMs(op.durationMs)})`);
  for (const rot of s.rotations)
    lines.push(
      `[rotation] ${rot.path} [${rot.keys.join(', ')}] latency ${rot.latencyMs ?? '-'} ms, window ${rot.windowMs} ms`,
    );
  return lines;
}

export class JunitReporter implements Reporter {
  readonly name = 'junit';
  constructor(
    readonly file: string,
    private readonly registry: SecretRegistry,
  ) {}

  async onRunEnd(run: RunReport): Promise<void> {
    await writeReportFile(this.file, renderJunit(run, this.registry));
  }
}
