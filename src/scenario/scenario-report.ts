/**
 * Building a scenario's report as it runs: the empty report, the report of a scenario that was not run, one
 * operation's report from its settled outcome, and the `operation.end` event that carries it to the reporters.
 */
import { AbortedError, InvalidInputError, WaitTimeoutError, errorMessage } from '../errors.ts';
import type { Emit, OperationPhase } from '../report/events.ts';
import type { OperationReport, ScenarioReport } from '../report/report-model.ts';
import type { Scenario } from './model.ts';
import type { OperationOutcome } from './operation.ts';
import type { Settled } from './timed-execution.ts';

/** A scenario's report before its first step: passed until something fails. */
export function newScenarioReport(scenario: Scenario, provider: string, skipped?: string): ScenarioReport {
  return {
    scenario: scenario.name,
    description: scenario.description,
    file: scenario.file,
    provider,
    passed: true,
    ...(skipped === undefined ? {} : { skipped }),
    startedAt: new Date().toISOString(),
    durationMs: 0,
    steps: [],
    cleanups: [],
    cleanupErrors: [],
    rotations: [],
  };
}

export function operationReport(
  operation: string,
  name: string,
  phase: OperationPhase,
  summary: string,
  timeoutMs: number,
  durationMs: number,
  settled: Settled<OperationOutcome | void>,
): OperationReport {
  const base = { operation, name, phase, summary, timeoutMs, durationMs };
  if (settled.ok) {
    const facts = settled.value ? settled.value.facts : undefined;
    return { ...base, passed: true, ...(facts ? { facts } : {}) };
  }
  const { error } = settled;
  const noise = settled.timedOut || settled.interrupted ? isAbortNoise(error) : false;
  const detail = error === undefined || noise ? undefined : describeError(error);
  const message = settled.timedOut
    ? `${settled.timeoutMessage ?? 'timed out'}${detail ? `: ${detail}` : ''}`
    : settled.interrupted
      ? 'interrupted'
      : (detail ?? 'failed');
  const diagnosis = (error as { diagnosis?: unknown } | undefined)?.diagnosis;
  const evidence = (error as { evidence?: unknown } | undefined)?.evidence;
  return {
    ...base,
    passed: false,
    ...(settled.timedOut ? { timedOut: true } : {}),
    error: message,
    ...(typeof diagnosis === 'string' && diagnosis ? { diagnosis } : {}),
    ...(Array.isArray(evidence) && evidence.length ? { evidence: evidence.map(String) } : {}),
  };
}

/**
 * Add a cleanup's report; a failed cleanup also fails the scenario (what it should have removed is still there).
 * Returns the failure to announce, if any.
 */
export function recordCleanup(
  report: ScenarioReport,
  op: OperationReport,
): { what: string; error: string } | undefined {
  report.cleanups.push(op);
  if (op.passed) return undefined;
  const failure = { what: op.summary, error: op.error ?? 'failed' };
  report.cleanupErrors.push(failure);
  report.passed = false;
  return failure;
}

export function emitEnd(emit: Emit, step: string, op: OperationReport): void {
  emit({
    kind: 'operation.end',
    step,
    operation: op.operation,
    summary: op.summary,
    phase: op.phase,
    passed: op.passed,
    durationMs: op.durationMs,
    ...(op.error === undefined ? {} : { error: op.error }),
    ...(op.diagnosis === undefined ? {} : { diagnosis: op.diagnosis }),
    ...(op.evidence === undefined ? {} : { evidence: op.evidence }),
    ...(op.facts === undefined ? {} : { facts: op.facts }),
  });
}

function describeError(e: unknown): string {
  if (e instanceof InvalidInputError) return e.describe();
  return errorMessage(e);
}

/** An error that only says "the signal fired" (the runner's own timeout or abort message says more). */
function isAbortNoise(e: unknown): boolean {
  if (e instanceof AbortedError) return true;
  if (e instanceof WaitTimeoutError && e.cause === undefined && e.lastSeen === undefined) return true;
  return e instanceof Error && e.name === 'AbortError';
}
