/**
 * The one orchestrator for a list of scenarios on one lab — `scenario NAME…|all` and the tests both use it.
 *
 * With `parallel: 1` the scenarios run one after another, exactly as listed, under the lab's own names. With
 * `parallel: N > 1` independent scenarios run N at a time, each under names of its own: the isolation built-ins
 * (`${namespaceSuffix}`, `${nameSuffix}`, `${vaultPathPrefix}`, `${runId}`) get a per-scenario tag on top of the
 * lab's, the same mechanism that keeps runs apart on a shared cluster (`--provider existing`). Scenarios that touch
 * state every scenario shares — faults (sealVault, stopVault, restartEso, …), `exclusive: true`, or fixed names
 * that no tag can separate — run afterwards in an exclusive phase, one at a time, alone.
 *
 * Reports come back in the listed order whatever the schedule. After an interruption (Ctrl-C) nothing new starts,
 * and every scenario that did not start is reported as not run.
 */
import type { Emit, RunEvent } from '../report/events.ts';
import { maskData, secrets } from '../secrets/secret-registry.ts';
import { errorMessage } from '../errors.ts';
import {
  buildRunReport,
  type RunReport,
  type ScenarioReport,
  type TimelineEntry,
} from '../report/report-model.ts';
import type { Scenario } from './model.ts';
import { runScenario, type RunScenarioOptions } from './runner.ts';
import { newScenarioReport } from './scenario-report.ts';
import { parseTemplate, stringsIn } from './template.ts';
import { parseDuration } from '../time.ts';

/** Operations that change what every scenario on the lab depends on (one Vault, one ESO). */
export const SHARED_STATE_OPERATIONS = [
  'sealVault',
  'unsealVault',
  'stopVault',
  'startVault',
  'restartEso',
] as const;

/** Of those, the ones a Vault server of the scenario's own takes (where the lab can start one). */
export const VAULT_FAULT_OPERATIONS = ['sealVault', 'unsealVault', 'stopVault', 'startVault'] as const;

/** Built-ins that give a scenario names of its own. */
export const ISOLATION_BUILTINS = ['namespaceSuffix', 'nameSuffix', 'vaultPathPrefix'] as const;

/** Where a scenario runs in a parallel run, and why. */
export interface Placement {
  exclusive: boolean;
  reason?: string;
  /** Runs beside the others on a Vault server of its own: its faults touch only that server. */
  privateVault?: true;
}

export interface PlacementOptions {
  /** The lab can give a scenario a Vault server of its own (local lab). */
  privateVault?: boolean;
}

export function placementOf(s: Scenario, o: PlacementOptions = {}): Placement {
  if (s.exclusive) return { exclusive: true, reason: 'marked exclusive: true' };
  const ops = s.steps.flatMap((st) => [...st.try, ...st.catch, ...st.finally]);
  const faults = [
    ...new Set(
      ops.map((o) => o.operation).filter((n) => (SHARED_STATE_OPERATIONS as readonly string[]).includes(n)),
    ),
  ];
  const fixed = !usesIsolation(s);
  const vaultOnly = faults.every((f) => (VAULT_FAULT_OPERATIONS as readonly string[]).includes(f));
  if (faults.length && !(o.privateVault && vaultOnly && !fixed))
    return { exclusive: true, reason: `injects ${faults.join(', ')}` };
  if (fixed)
    return {
      exclusive: true,
      reason: 'uses fixed names (no ${namespaceSuffix}, ${nameSuffix} or ${vaultPathPrefix})',
    };
  return faults.length ? { exclusive: false, privateVault: true } : { exclusive: false };
}

function usesIsolation(s: Scenario): boolean {
  const values = [
    ...Object.values(s.vars),
    ...s.steps.flatMap((st) =>
      [...st.try, ...st.catch, ...st.finally].flatMap((o) => [...stringsIn(o.args)].map(([v]) => v)),
    ),
  ];
  return values.some((v) => {
    try {
      return parseTemplate(v).some(
        (p) => 'ref' in p && (ISOLATION_BUILTINS as readonly string[]).includes(p.ref),
      );
    } catch {
      return false;
    }
  });
}

/**
 * The parallelism a list really gets: `parallel` when at least two scenarios can share the lab, else 1 (a single
 * scenario, or only exclusive ones, runs exactly as in a serial run: the lab's names, live output).
 */
export function effectiveParallel(
  scenarios: readonly Scenario[],
  parallel: number,
  o: PlacementOptions = {},
): number {
  const shared = scenarios.filter((s) => !placementOf(s, o).exclusive).length;
  return shared > 1 ? Math.max(1, Math.min(Math.floor(parallel), shared)) : 1;
}

/**
 * The time a scenario is sure to spend waiting: its `for:` holds and sleeps added up (literal durations only). The
 * shared phase starts the longest waits first, so one started last does not end the phase alone.
 */
export function knownWaitMs(s: Scenario): number {
  let total = 0;
  for (const o of s.steps.flatMap((st) => [...st.try, ...st.catch, ...st.finally])) {
    const f = (o.args as { for?: unknown } | undefined)?.for;
    const ms = typeof f === 'number' ? f : typeof f === 'string' ? parseDuration(f) : undefined;
    if (ms !== undefined && Number.isFinite(ms)) total += ms;
  }
  return total;
}

/** The built-ins for one scenario of a parallel run: the lab's isolation plus a tag (`-p3`, `p3/`). */
export function isolatedBuiltins(
  vars: Readonly<Record<string, string>>,
  tag: string,
): Record<string, string> {
  return {
    ...vars,
    runId: vars.runId ? `${vars.runId}-${tag}` : tag,
    namespaceSuffix: `-${tag}${vars.namespaceSuffix ?? ''}`,
    nameSuffix: `-${tag}${vars.nameSuffix ?? ''}`,
    vaultPathPrefix: `${vars.vaultPathPrefix ?? ''}${tag}/`,
  };
}

/** How the orchestrator gets a runtime per scenario (clients, watchers) and what it adds to the timeline. */
export interface RuntimeSource<R> {
  /** `privateVault`: the scenario's tag, for a Vault server of its own (placement.privateVault). */
  open(scenario: Scenario, o?: { privateVault?: string }): R | Promise<R>;
  /** Built-ins this runtime changes (a private Vault server's `vaultServer` and `vaultAddr`). */
  builtins?(runtime: R): Record<string, string>;
  /** The private Vault server the runtime runs on, for the report (`openbao-p3`). */
  privateVaultName?(runtime: R): string | undefined;
  close?(runtime: R): Promise<void>;
  /** Timed facts the runtime observed (Secret watch events, Vault writes), for the report's timeline. */
  timeline?(runtime: R): TimelineEntry[];
}

/** Where one scenario's events go; `done()` when it ended (a buffering sink prints its block then). */
export interface ScenarioSink {
  emit: Emit;
  done(report: ScenarioReport): void;
}

export interface OrchestrateOptions<R> extends Omit<RunScenarioOptions<R>, 'runtime' | 'emit'> {
  runtime: RuntimeSource<R>;
  /** Every event of every scenario (unless `sink` is given). */
  emit: Emit;
  /** Per-scenario event sink (buffered console output in parallel runs). */
  sink?: (scenario: Scenario, placement: Placement) => ScenarioSink;
  /** Scenarios at a time in the shared phase (default 1: one after another, as listed, under the lab's names). */
  parallel?: number;
  /**
   * The lab can give a scenario a Vault server of its own: in a parallel run, scenarios whose only shared-state
   * operations are Vault faults then run in the shared phase on one.
   */
  privateVault?: boolean;
  /** How long a scenario will take, for the shared phase's order (longest first); default knownWaitMs. */
  estimateMs?: (s: Scenario) => number;
  versions?: Record<string, string>;
}

export async function runScenarios<R>(
  scenarios: readonly Scenario[],
  options: OrchestrateOptions<R>,
): Promise<RunReport> {
  const now = options.now ?? Date.now;
  const started = now();
  const startedAt = new Date(started).toISOString();
  const placementOptions = { privateVault: options.privateVault ?? false };
  const parallel = effectiveParallel(scenarios, options.parallel ?? 1, placementOptions);
  const reports: (ScenarioReport | undefined)[] = scenarios.map(() => undefined);
  // A serial run is today's run: the lab's names and the lab's Vault, one scenario after another.
  const placements = scenarios.map((s) => placementOf(s, parallel > 1 ? placementOptions : {}));

  const runOne = async (index: number, isolate: boolean): Promise<void> => {
    const scenario = scenarios[index]!;
    const placement = placements[index]!;
    const sink = options.sink?.(scenario, placement) ?? { emit: options.emit, done: () => {} };
    const timeline: TimelineEntry[] = [];
    const emit: Emit = (e) => {
      const entry = timelineEntry(e, now());
      if (entry) timeline.push(entry);
      sink.emit(e);
    };
    const tag = `p${index + 1}`;
    const opened = now();
    let runtime: R;
    try {
      runtime = await options.runtime.open(
        scenario,
        isolate && placement.privateVault ? { privateVault: tag } : {},
      );
    } catch (e) {
      // The scenario's own Vault server (or clients) could not be set up: that scenario fails, with the reason;
      // the others go on. An interruption is not a failure: the scenario is then reported as not run.
      if (options.signal.aborted) return;
      const report = openFailed(scenario, options.provider, placement, errorMessage(e), now() - opened);
      reports[index] = report;
      sink.done(report);
      return;
    }
    let report: ScenarioReport;
    try {
      const vars = isolate ? isolatedBuiltins(options.vars, tag) : options.vars;
      report = await runScenario(scenario, {
        ...options,
        runtime,
        emit,
        vars: { ...vars, ...(options.runtime.builtins?.(runtime) ?? {}) },
      });
      const privateVault = options.runtime.privateVaultName?.(runtime);
      if (privateVault) report.privateVault = privateVault;
      timeline.push(...(options.runtime.timeline?.(runtime) ?? []));
    } finally {
      await options.runtime.close?.(runtime);
    }
    if (placement.exclusive) report.exclusive = placement.reason ?? true;
    report.timeline = timeline.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    reports[index] = report;
    sink.done(report);
  };

  const stop = () => options.signal.aborted || reports.some((r) => r?.interrupted);
  if (parallel === 1) {
    for (const [i] of scenarios.entries()) {
      if (stop()) break;
      await runOne(i, false);
    }
  } else {
    const shared = scenarios.flatMap((_, i) => (placements[i]!.exclusive ? [] : [i]));
    const alone = scenarios.flatMap((_, i) => (placements[i]!.exclusive ? [i] : []));
    // Longest first (a stable sort: the listed order otherwise); reports keep the listed order.
    const estimate = options.estimateMs ?? knownWaitMs;
    const queue = [...shared].sort((a, b) => estimate(scenarios[b]!) - estimate(scenarios[a]!));
    const worker = async () => {
      for (let i = queue.shift(); i !== undefined && !stop(); i = queue.shift()) await runOne(i, true);
    };
    // allSettled: a wiring error in one scenario must not abandon the others half-way (their cleanups run).
    const settled = await Promise.allSettled(
      Array.from({ length: Math.min(parallel, shared.length) }, worker),
    );
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    for (const i of alone) {
      if (stop()) break;
      await runOne(i, false);
    }
  }

  const all = scenarios.map((s, i) => reports[i] ?? notRun(s, options.provider));
  const run = buildRunReport(all, {
    provider: options.provider,
    ...(options.versions ? { versions: options.versions } : {}),
    startedAt,
    durationMs: now() - started,
  });
  if (options.signal.aborted) run.interrupted = true;
  return run;
}

/** The operation names of a report whose scenario failed before its first step (its runtime could not be set up). */
export const SETUP_OPERATIONS = { privateVault: 'privateVault', runtime: 'runtime' } as const;

function openFailed(
  scenario: Scenario,
  provider: string,
  placement: Placement,
  error: string,
  durationMs: number,
): ScenarioReport {
  const what = placement.privateVault ? 'start a Vault server of its own' : 'set up its clients';
  return {
    ...newScenarioReport(scenario, provider),
    passed: false,
    durationMs,
    steps: [
      {
        name: what,
        index: 0,
        passed: false,
        durationMs,
        operations: [
          {
            operation: placement.privateVault ? SETUP_OPERATIONS.privateVault : SETUP_OPERATIONS.runtime,
            name: what,
            phase: 'try',
            summary: what,
            passed: false,
            durationMs,
            timeoutMs: 0,
            error: secrets.redact(error),
          },
        ],
      },
    ],
  };
}

function notRun(scenario: Scenario, provider: string): ScenarioReport {
  return { ...newScenarioReport(scenario, provider, 'not run: the run was interrupted'), notRun: true };
}

/** A run event as a timeline entry (operations as spans: the start carries the end once it is known). */
function timelineEntry(e: RunEvent, at: number): TimelineEntry | undefined {
  const iso = new Date(at).toISOString();
  switch (e.kind) {
    case 'step.start':
      return { at: iso, kind: 'step', label: e.step };
    case 'operation.start':
      return undefined;
    case 'operation.end': {
      const kind = (SHARED_STATE_OPERATIONS as readonly string[]).includes(e.operation)
        ? 'fault'
        : e.phase === 'cleanup'
          ? 'cleanup'
          : 'operation';
      return {
        at: new Date(at - e.durationMs).toISOString(),
        endAt: iso,
        kind,
        label: `${e.operation}${e.summary && e.summary !== e.operation ? ` ${e.summary}` : ''}`,
        facts: { step: e.step, passed: e.passed, ...(e.facts ?? {}) },
      };
    }
    case 'rotation': {
      const ack = Date.parse(e.ackAt);
      return {
        at: e.ackAt,
        endAt: new Date(ack + e.windowMs).toISOString(),
        kind: 'refresh.window',
        label: `refresh window for ${e.path} (${e.keys.join(',')})`,
        facts: {
          windowMs: e.windowMs,
          ...(e.latencyMs === undefined ? {} : { latencyMs: e.latencyMs }),
          ...(e.withinWindow === undefined ? {} : { withinWindow: e.withinWindow }),
          ...(e.observedAt ? { observedAt: e.observedAt } : {}),
          ...(e.refreshTime ? { esoRefreshTime: e.refreshTime } : {}),
        },
      };
    }
    case 'scenario.interrupted':
      return { at: iso, kind: 'interrupted', label: e.reason };
    default:
      return undefined;
  }
}

/** A Secret watch event for the timeline: key names with short hashes, never values. */
export function secretTimelineEntry(
  namespace: string,
  name: string,
  e: { type: string; at: number; resourceVersion: string; exists: boolean; data: Record<string, string> },
): TimelineEntry {
  return {
    at: new Date(e.at).toISOString(),
    kind: `secret.${e.type.toLowerCase()}`,
    label: `Secret ${namespace}/${name}${e.exists ? '' : ' (absent)'}`,
    facts: {
      resourceVersion: e.resourceVersion,
      ...Object.fromEntries(Object.entries(maskData(e.data)).map(([k, h]) => [`data.${k}`, h])),
    },
  };
}
