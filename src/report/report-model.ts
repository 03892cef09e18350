/**
 * The report model: what a scenario run produced, independent of how it is written (console, JSON, JUnit).
 * Holds key names, short hashes and messages — never secret values (writers still redact as a second line).
 */
import { ExitCode } from '../errors.ts';
import type { OperationPhase } from './events.ts';

export interface OperationReport {
  /** The operation key (`assertSecret`) or, for cleanups, `cleanup`. */
  operation: string;
  /** The label (`name:` in the scenario) or the operation key. */
  name: string;
  phase: OperationPhase;
  summary: string;
  passed: boolean;
  durationMs: number;
  timeoutMs: number;
  /** The operation timed out (the error says after how long). */
  timedOut?: boolean;
  error?: string;
  diagnosis?: string;
  evidence?: string[];
  facts?: Record<string, string | number | boolean>;
}

export interface StepReport {
  name: string;
  index: number;
  passed: boolean;
  /** Why the step did not run (an earlier step failed, the run was interrupted). */
  skipped?: string;
  durationMs: number;
  operations: OperationReport[];
}

export interface RotationReport {
  path: string;
  keys: string[];
  ackAt: string;
  observedAt?: string;
  latencyMs?: number;
  windowMs: number;
  withinWindow?: boolean;
  refreshTime?: string;
  /** The Secret (`namespace/name`) checked: one write can be checked against several Secrets. */
  secret?: string;
}

/** Distinct Vault writes among the rotations (one write checked against two Secrets is one rotation). */
export function distinctRotations(rotations: readonly RotationReport[]): number {
  return new Set(rotations.map((r) => `${r.path}@${r.ackAt}`)).size;
}

export interface ScenarioReport {
  scenario: string;
  description?: string;
  file: string;
  provider: string;
  passed: boolean;
  /** Why the scenario did not run (e.g. `requires kind; this lab is local`). A skipped scenario passes. */
  skipped?: string;
  /** Ctrl-C, SIGTERM or a closed output stopped the run (the CLI exits 130, 143 or 141). */
  interrupted?: boolean;
  startedAt: string;
  durationMs: number;
  steps: StepReport[];
  /** Cleanups registered by operations, in the order they ran (last-in-first-out). */
  cleanups: OperationReport[];
  cleanupErrors: { what: string; error: string }[];
  /** Cleanups left in place because of `--keep`. */
  keptCleanups?: string[];
  rotations: RotationReport[];
  /** Never started: the run was interrupted before its turn (reported with `skipped` saying so). */
  notRun?: boolean;
  /** Ran alone in a parallel run, and why (faults, `exclusive: true`, fixed names). */
  exclusive?: string | true;
  /** Ran in a parallel run on a Vault server of its own (its Vault faults disturbed no one): its name. */
  privateVault?: string;
  /** What happened when, oldest first (set by the orchestrator). */
  timeline?: TimelineEntry[];
}

/**
 * One timed thing that happened during a scenario, for the HTML timeline: a step, an operation (a span), a fault,
 * a Vault write, a Secret watch event, a refresh window (a span from Vault's acknowledgement). Kinds are open:
 * readers draw unknown ones generically. Facts hold key names and short hashes, never values.
 */
export interface TimelineEntry {
  /** ISO time. */
  at: string;
  /** End of a span (operations, refresh windows). */
  endAt?: string;
  kind: string;
  label: string;
  facts?: Record<string, string | number | boolean>;
}

/** One invocation: a single scenario or `scenario all`. */
export interface RunReport {
  provider: string;
  /** Component versions of the lab (`StartedLab.versions`). */
  versions: Record<string, string>;
  passed: boolean;
  interrupted: boolean;
  startedAt: string;
  durationMs: number;
  scenarios: ScenarioReport[];
}

export function buildRunReport(
  scenarios: readonly ScenarioReport[],
  meta: { provider: string; versions?: Record<string, string>; startedAt?: string; durationMs?: number },
): RunReport {
  const first = scenarios[0];
  return {
    provider: meta.provider,
    versions: meta.versions ?? {},
    passed: scenarios.every((s) => s.passed),
    interrupted: scenarios.some((s) => s.interrupted === true),
    startedAt: meta.startedAt ?? first?.startedAt ?? new Date().toISOString(),
    durationMs: meta.durationMs ?? scenarios.reduce((t, s) => t + s.durationMs, 0),
    scenarios: [...scenarios],
  };
}

/** 0 when every scenario passed (or was skipped), 130 when interrupted (the CLI says which stop: 130/143/141), 1 otherwise. */
export function exitCodeFor(run: Pick<RunReport, 'passed' | 'interrupted'>): ExitCode {
  if (run.interrupted) return ExitCode.interrupted;
  return run.passed ? ExitCode.passed : ExitCode.failed;
}

export type Outcome = 'passed' | 'failed' | 'skipped' | 'interrupted';

export function scenarioOutcome(s: ScenarioReport): Outcome {
  if (s.interrupted) return 'interrupted';
  if (s.skipped !== undefined) return 'skipped';
  return s.passed ? 'passed' : 'failed';
}

/** The first failed operation of a scenario (for one-line summaries and JUnit messages). */
export function firstFailure(
  s: ScenarioReport,
): { step: StepReport; operation: OperationReport } | undefined {
  for (const step of s.steps)
    for (const operation of step.operations) if (!operation.passed) return { step, operation };
  return undefined;
}
