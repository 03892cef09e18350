/**
 * Runs a loaded scenario, chainsaw-style. Steps run in order; in a step the `try` operations run until one
 * fails, then `catch` (only after a failure), then `finally` (always). A failed step fails the scenario and the
 * later steps are skipped. Each operation runs under its own timeout (a child AbortController joined with the
 * run's signal). Cleanups registered by operations run after the steps, last-in-first-out, each with its own
 * timeout, also when the run fails or is interrupted — unless `keep`.
 */
import {
  AbortedError,
  InvalidInputError,
  LabError,
  WaitTimeoutError,
  errorMessage,
  formatMs,
} from '../errors.ts';
import type { Emit, OperationPhase, RunEvent } from '../report/events.ts';
import type { OperationReport, ScenarioReport, StepReport } from '../report/report-model.ts';
import { zodToInputIssues } from './issues.ts';
import type { OperationSpec, Scenario, StepSpec } from './model.ts';
import { formatPath } from './source-map.ts';
import type { OperationContext, OperationHandler, OperationOutcome } from './operation.ts';
import type { Timeouts } from './schema.ts';
import { substituteDeep, templateValues } from './template.ts';
import { resolveTimeout, type ResolvedTimeout } from './timeouts.ts';
import { unmetRequirement, type LabCapabilities } from './requirements.ts';

export interface RunScenarioOptions<R> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  handlers: readonly OperationHandler<R, any>[];
  runtime: R;
  /** The lab provider (checked against the scenario's `requires:`). */
  provider: string;
  /** What the lab offers beyond its provider (`requires: [node]`). */
  capabilities?: LabCapabilities;
  /** Built-in template values: runId, vaultServer, … (see BUILTINS and builtinValues() in template.ts). */
  vars: Readonly<Record<string, string>>;
  /** Values for declared vars that replace the scenario's defaults (`--var NAME=value`); others are ignored. */
  overrides?: Readonly<Record<string, string>>;
  emit: Emit;
  /** The run's signal (Ctrl-C): stops at once, runs cleanups, reports interrupted. */
  signal: AbortSignal;
  /** Aborts cleanups too (e.g. a second Ctrl-C). Cleanups otherwise only stop at their own timeout. */
  cleanupSignal?: AbortSignal;
  /** Leave what operations created in place (cleanups are listed, not run). */
  keep?: boolean;
  /** Timeout defaults in ms per kind, below scenario/step/operation overrides. */
  defaults?: Timeouts;
  /** After a timeout fires, how long the handler may take to settle so its own error (what it last saw) is kept. */
  timeoutGraceMs?: number;
  now?: () => number;
}

interface Cleanup {
  description: string;
  step: string;
  timeout: ResolvedTimeout;
  fn: (signal: AbortSignal) => Promise<void>;
}

type Settled<T> =
  | { ok: true; value: T }
  | { ok: false; error: unknown; timedOut: boolean; interrupted: boolean; timeoutMessage?: string };

export async function runScenario<R>(
  scenario: Scenario,
  options: RunScenarioOptions<R>,
): Promise<ScenarioReport> {
  const now = options.now ?? Date.now;
  const started = now();
  const report: ScenarioReport = {
    scenario: scenario.name,
    description: scenario.description,
    file: scenario.file,
    provider: options.provider,
    passed: true,
    startedAt: new Date().toISOString(),
    durationMs: 0,
    steps: [],
    cleanups: [],
    cleanupErrors: [],
    rotations: [],
  };
  const emit: Emit = (e: RunEvent) => {
    if (e.kind === 'rotation') {
      const { kind: _kind, ...rotation } = e;
      report.rotations.push(rotation);
    }
    try {
      options.emit(e);
    } catch {
      // A reporter must not stop a run half-way (cleanups still have to run).
    }
  };
  const finish = (): ScenarioReport => {
    report.durationMs = now() - started;
    emit({
      kind: 'scenario.end',
      scenario: scenario.name,
      passed: report.passed,
      durationMs: report.durationMs,
      ...(report.skipped === undefined ? {} : { skipped: report.skipped }),
    });
    return report;
  };

  const declared = Object.fromEntries(
    Object.entries(options.overrides ?? {}).filter(([k]) => k in scenario.vars),
  );
  let values: Record<string, string>;
  try {
    values = templateValues(scenario.vars, options.vars, declared);
  } catch (e) {
    // A built-in the caller did not provide: a wiring bug, reported before anything runs.
    throw new LabError('E_TEMPLATE', `${scenario.file}: vars: ${errorMessage(e)}`, {
      cause: e,
      hint: 'runScenario() needs a value for every built-in (see builtinValues() in scenario/template.ts)',
    });
  }
  emit({ kind: 'scenario.start', scenario: scenario.name, file: scenario.file, provider: options.provider });
  const unmet = unmetRequirement(scenario.requires, options.provider, options.capabilities);
  if (unmet) {
    report.skipped = unmet;
    return finish();
  }

  const handlers = new Map(options.handlers.map((h) => [h.name, h]));
  const cleanups: Cleanup[] = [];
  const grace = options.timeoutGraceMs ?? 1000;
  let interrupted = false;

  const markInterrupted = () => {
    if (interrupted) return;
    interrupted = true;
    report.interrupted = true;
    report.passed = false;
    emit({ kind: 'scenario.interrupted', scenario: scenario.name, reason: abortReason(options.signal) });
  };

  const runOperation = async (step: StepSpec, spec: OperationSpec): Promise<OperationReport> => {
    const handler = handlers.get(spec.operation);
    const name = spec.label ?? spec.operation;
    const timeout = resolveTimeout(handler?.timeoutKind ?? 'default', {
      ...(spec.timeoutMs === undefined ? {} : { operation: spec.timeoutMs }),
      step: step.timeouts,
      scenario: scenario.timeouts,
      ...(options.defaults ? { defaults: options.defaults } : {}),
    });
    let args: unknown;
    let summary = spec.label ?? spec.operation;
    let prepError: unknown;
    try {
      if (!handler) throw new LabError('E_UNKNOWN_OPERATION', `no handler for operation "${spec.operation}"`);
      args = parseArgs(handler, spec, values, scenario);
      summary = spec.label ?? safeSummary(handler, args, spec.operation);
    } catch (e) {
      prepError = e;
    }
    emit({ kind: 'operation.start', step: step.name, operation: spec.operation, summary, phase: spec.phase });
    const t0 = now();
    const settled: Settled<OperationOutcome | void> =
      prepError !== undefined || !handler
        ? { ok: false, error: prepError, timedOut: false, interrupted: false }
        : await execute(
            `${spec.operation} (${summary}) in step "${step.name}"`,
            timeout,
            options.signal,
            grace,
            (signal) => {
              const ctx: OperationContext<R> = {
                signal,
                emit,
                step: step.name,
                timeoutMs: timeout.ms,
                baseDir: scenario.baseDir,
                vars: values,
                runtime: options.runtime,
                addCleanup: (description, fn) =>
                  cleanups.push({
                    description,
                    step: step.name,
                    fn,
                    timeout: resolveTimeout('cleanup', {
                      step: step.timeouts,
                      scenario: scenario.timeouts,
                      ...(options.defaults ? { defaults: options.defaults } : {}),
                    }),
                  }),
              };
              return handler.run(ctx, args);
            },
          );
    if (!settled.ok && settled.interrupted) markInterrupted();
    const op = operationReport(spec.operation, name, spec.phase, summary, timeout.ms, now() - t0, settled);
    emitEnd(emit, step.name, op);
    return op;
  };

  let failed = false;
  for (const step of scenario.steps) {
    if (options.signal.aborted) markInterrupted();
    if (failed || interrupted) {
      const reason = interrupted ? 'the run was interrupted' : 'an earlier step failed';
      report.steps.push({
        name: step.name,
        index: step.index,
        passed: false,
        skipped: reason,
        durationMs: 0,
        operations: [],
      });
      emit({ kind: 'step.skipped', step: step.name, index: step.index, reason });
      continue;
    }
    emit({ kind: 'step.start', step: step.name, index: step.index });
    const s0 = now();
    const ops: OperationReport[] = [];
    let tryFailed = false;
    for (const spec of step.try) {
      const op = await runOperation(step, spec);
      ops.push(op);
      if (!op.passed) {
        tryFailed = true;
        break;
      }
    }
    if (tryFailed && !interrupted)
      for (const spec of step.catch) if (!interrupted) ops.push(await runOperation(step, spec));
    if (!interrupted)
      for (const spec of step.finally) if (!interrupted) ops.push(await runOperation(step, spec));
    const stepReport: StepReport = {
      name: step.name,
      index: step.index,
      passed: ops.every((o) => o.passed),
      durationMs: now() - s0,
      operations: ops,
    };
    report.steps.push(stepReport);
    const firstError = ops.find((o) => !o.passed)?.error;
    emit({
      kind: 'step.end',
      step: step.name,
      index: step.index,
      passed: stepReport.passed,
      durationMs: stepReport.durationMs,
      ...(firstError === undefined ? {} : { error: firstError }),
    });
    if (!stepReport.passed) {
      failed = true;
      report.passed = false;
    }
  }

  await runCleanups(cleanups, report, emit, options, grace, now);
  return finish();
}

async function runCleanups<R>(
  cleanups: Cleanup[],
  report: ScenarioReport,
  emit: Emit,
  options: RunScenarioOptions<R>,
  grace: number,
  now: () => number,
): Promise<void> {
  if (options.keep) {
    if (cleanups.length) report.keptCleanups = cleanups.map((c) => c.description).reverse();
    return;
  }
  const signal = options.cleanupSignal ?? new AbortController().signal;
  for (const cleanup of [...cleanups].reverse()) {
    emit({
      kind: 'operation.start',
      step: cleanup.step,
      operation: 'cleanup',
      summary: cleanup.description,
      phase: 'cleanup',
    });
    const t0 = now();
    const settled = await execute(`cleanup "${cleanup.description}"`, cleanup.timeout, signal, grace, (s) =>
      cleanup.fn(s),
    );
    const op = operationReport(
      'cleanup',
      'cleanup',
      'cleanup',
      cleanup.description,
      cleanup.timeout.ms,
      now() - t0,
      settled,
    );
    report.cleanups.push(op);
    emitEnd(emit, cleanup.step, op);
    if (!op.passed) {
      const error = op.error ?? 'failed';
      report.cleanupErrors.push({ what: cleanup.description, error });
      emit({ kind: 'cleanup.error', what: cleanup.description, error });
    }
  }
}

/** Substitute templates in the operation's value and parse it with the handler's schema. */
function parseArgs<R>(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  handler: OperationHandler<R, any>,
  spec: OperationSpec,
  values: Record<string, string>,
  scenario: Scenario,
): unknown {
  let resolved: unknown;
  try {
    resolved = substituteDeep(spec.args, values);
  } catch (e) {
    throw new InvalidInputError([
      { location: spec.location, field: formatPath(spec.path), message: errorMessage(e) },
    ]);
  }
  const parsed = handler.schema.safeParse(resolved);
  if (!parsed.success)
    throw new InvalidInputError(zodToInputIssues(parsed.error.issues, spec.path, scenario.source));
  return parsed.data;
}

function safeSummary<R>(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  handler: OperationHandler<R, any>,
  args: unknown,
  fallback: string,
): string {
  try {
    return handler.summarize(args) || fallback;
  } catch {
    return fallback;
  }
}

/**
 * Run `fn` under `timeout` and `runSignal`. The handler is told `timeout.ms` (its own waits should end then,
 * naming what they last saw); its signal aborts `grace` ms later in case it did not, and after a further
 * `grace` ms the runner stops waiting for it. An abort of `runSignal` reaches the handler at once.
 */
async function execute<T>(
  what: string,
  timeout: ResolvedTimeout,
  runSignal: AbortSignal,
  grace: number,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<Settled<T>> {
  if (runSignal.aborted)
    return { ok: false, error: abortedFrom(runSignal), timedOut: false, interrupted: true };
  const timeoutMessage = `${what} timed out after ${formatMs(timeout.ms)} (${timeout.source})`;
  const child = new AbortController();
  const timer = setTimeout(
    () => child.abort(new WaitTimeoutError(what, timeout.ms, undefined, {})),
    timeout.ms + grace,
  );
  const signal = AbortSignal.any([runSignal, child.signal]);
  let graceTimer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const abandoned = new Promise<'abandoned'>((resolve) => {
    onAbort = () => (graceTimer = setTimeout(() => resolve('abandoned'), grace));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  const run = Promise.resolve()
    .then(() => fn(signal))
    .then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    );
  try {
    const outcome = await Promise.race([run, abandoned]);
    const interrupted = runSignal.aborted;
    const timedOut = !interrupted && child.signal.aborted;
    if (outcome === 'abandoned' || interrupted || timedOut) {
      const error = outcome !== 'abandoned' && !outcome.ok ? outcome.error : undefined;
      if (interrupted)
        return { ok: false, error: abortedFrom(runSignal), timedOut: false, interrupted: true };
      return { ok: false, error, timedOut: true, interrupted: false, timeoutMessage };
    }
    if (outcome.ok) return { ok: true, value: outcome.value };
    if (outcome.error instanceof WaitTimeoutError)
      // The handler's own wait ran out: its message says for how long and what it last saw.
      return { ok: false, error: outcome.error, timedOut: true, interrupted: false, timeoutMessage: what };
    return { ok: false, error: outcome.error, timedOut: false, interrupted: false };
  } finally {
    clearTimeout(timer);
    clearTimeout(graceTimer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

function operationReport(
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

function emitEnd(emit: Emit, step: string, op: OperationReport): void {
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

function abortedFrom(signal: AbortSignal): AbortedError {
  const reason: unknown = signal.reason;
  return reason instanceof AbortedError ? reason : new AbortedError(abortReason(signal), { cause: reason });
}

function abortReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason.message : reason === undefined ? 'interrupted' : String(reason);
}
