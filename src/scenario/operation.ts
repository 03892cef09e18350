/**
 * The contract between the scenario runner and the operations it runs. A scenario step lists single-key
 * operations (`apply: {...}`, `rotate: {...}`); each key names an OperationHandler registered with the runner.
 * The runner owns ordering, try/catch/finally, timeouts and cleanup; a handler owns what one operation does.
 */
import type { z } from 'zod';
import type { Emit } from '../report/events.ts';

/** Default timeout per kind of operation; overridable per scenario, step and operation (`timeout:`). */
export type TimeoutKind = 'apply' | 'assert' | 'vault' | 'fault' | 'cleanup' | 'default';

export interface OperationContext<R> {
  /** Aborts on Ctrl-C or when the operation's timeout elapses. */
  signal: AbortSignal;
  emit: Emit;
  /** The step this operation belongs to (for events). */
  step: string;
  /** The operation's resolved timeout. */
  timeoutMs: number;
  /** Directory of the scenario file: relative `file:` references resolve against it. */
  baseDir: string;
  /** Scenario variables after templating (`vars:` plus built-ins such as `runId`, `vaultServer`). */
  vars: Record<string, string>;
  /** The real (or, in unit tests, fake) world: Kubernetes, Vault, the lab. */
  runtime: R;
  /**
   * Register an undo for something this operation created. The runner runs cleanups last-in-first-out after
   * the scenario (unless `--keep`), each with its own timeout, collecting errors.
   */
  addCleanup(description: string, fn: (signal: AbortSignal) => Promise<void>): void;
}

/** What an operation reports beyond pass/fail. */
export interface OperationOutcome {
  facts?: Record<string, string | number | boolean>;
}

export interface OperationHandler<R, A = unknown> {
  /** The YAML key, e.g. `assertSecret`. */
  readonly name: string;
  /** One line for `scenario --list`-style docs and the JSON Schema description. */
  readonly description: string;
  readonly timeoutKind: TimeoutKind;
  /** Validates the operation's value; also the source of scenarios/schema.json. */
  readonly schema: z.ZodType<A>;
  /** A short human summary for progress lines (no secret values). */
  summarize(args: A): string;
  run(ctx: OperationContext<R>, args: A): Promise<OperationOutcome | void>;
}
