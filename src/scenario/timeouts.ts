/**
 * Which timeout an operation gets: its own `timeout:` > the step's `timeouts[kind]` > the scenario's
 * `timeouts[kind]` > the caller's defaults > the built-in defaults below.
 */
import type { TimeoutKind } from './operation.ts';
import type { Timeouts } from './schema.ts';

export const DEFAULT_TIMEOUTS: Readonly<Record<TimeoutKind, number>> = {
  apply: 30_000,
  assert: 60_000,
  vault: 15_000,
  fault: 60_000,
  cleanup: 30_000,
  default: 30_000,
};

export interface ResolvedTimeout {
  ms: number;
  /** Where it came from, for messages: `operation timeout`, `step timeouts.assert`, `default assert`. */
  source: string;
}

export function resolveTimeout(
  kind: TimeoutKind,
  levels: { operation?: number; step?: Timeouts; scenario?: Timeouts; defaults?: Timeouts },
): ResolvedTimeout {
  if (levels.operation !== undefined) return { ms: levels.operation, source: 'operation timeout' };
  const step = levels.step?.[kind];
  if (step !== undefined) return { ms: step, source: `step timeouts.${kind}` };
  const scenario = levels.scenario?.[kind];
  if (scenario !== undefined) return { ms: scenario, source: `scenario timeouts.${kind}` };
  const given = levels.defaults?.[kind];
  if (given !== undefined) return { ms: given, source: `default ${kind} timeout` };
  return { ms: DEFAULT_TIMEOUTS[kind], source: `default ${kind} timeout` };
}
