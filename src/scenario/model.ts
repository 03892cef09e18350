/** A loaded, validated scenario: what the runner executes. Template references are still unresolved. */
import type { SourceLocation } from '../errors.ts';
import type { ProviderName } from '../labs/lab-provider.ts';
import type { OperationPhase } from '../report/events.ts';
import type { Timeouts } from './schema.ts';
import type { FieldPath, SourceMap } from './source-map.ts';

export interface OperationSpec {
  /** The operation key (`apply`, `assertSecret`). */
  operation: string;
  /** Optional human label (`name:` next to the operation key). */
  label?: string;
  /** The operation's raw value: `${...}` references unresolved; parsed by the handler's schema at run time. */
  args: unknown;
  /** Per-operation `timeout:` in ms. */
  timeoutMs?: number;
  phase: Exclude<OperationPhase, 'cleanup'>;
  /** Field path of the operation's value, e.g. `['steps', 0, 'try', 1, 'apply']`. */
  path: FieldPath;
  location: SourceLocation;
}

export interface StepSpec {
  name: string;
  index: number;
  timeouts: Timeouts;
  try: OperationSpec[];
  catch: OperationSpec[];
  finally: OperationSpec[];
  location: SourceLocation;
}

export interface Scenario {
  name: string;
  description: string;
  expect?: string;
  requires?: (ProviderName | 'node')[];
  /** `exclusive: true`: run alone in `scenario all --parallel N` (it touches state other scenarios share). */
  exclusive?: boolean;
  /** Declared vars with their default values (may reference built-ins). */
  vars: Record<string, string>;
  timeouts: Timeouts;
  steps: StepSpec[];
  /** The file as shown in messages (relative to the working directory when inside it). */
  file: string;
  /** Directory of the scenario file: `file:` references resolve against it. */
  baseDir: string;
  /** Maps field paths back to file:line:column (for errors found at run time). */
  source: SourceMap;
}
