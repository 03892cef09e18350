/**
 * A run emits events; reporters print them. Events carry key names and short hashes, never secret values.
 */

/** Lab lifecycle (up/down, component builds and starts). */
export type LabEvent =
  | { kind: 'lab.component.building'; component: string; step: string; elapsedMs: number }
  | { kind: 'lab.component.built'; component: string; durationMs: number; cached: boolean }
  | { kind: 'lab.component.starting'; component: string }
  | { kind: 'lab.component.ready'; component: string; durationMs: number; pid?: number; port?: number }
  | { kind: 'lab.component.stopped'; component: string }
  | { kind: 'lab.ready'; labId: string; provider: string; durationMs: number }
  | { kind: 'lab.stopped'; labId: string }
  | { kind: 'lab.info'; message: string };

/** Short, non-reversible fingerprint of a value: the first 8 hex chars of its SHA-256. */
export type ShortHash = string;

/** A Secret as shown to humans and reports: key names with short hashes. */
export type MaskedData = Record<string, ShortHash>;

export type ScenarioEvent =
  | { kind: 'scenario.start'; scenario: string; file: string; provider: string }
  | { kind: 'step.start'; step: string; index: number }
  | { kind: 'step.end'; step: string; index: number; passed: boolean; durationMs: number; error?: string }
  | { kind: 'operation.start'; step: string; operation: string; summary: string; phase: OperationPhase }
  | {
      kind: 'operation.end';
      step: string;
      operation: string;
      summary: string;
      phase: OperationPhase;
      passed: boolean;
      durationMs: number;
      error?: string;
      diagnosis?: string;
      evidence?: string[];
      /** Facts worth reporting (e.g. `{ latencyMs: 5123, windowMs: 7000 }`). */
      facts?: Record<string, string | number | boolean>;
    }
  | {
      kind: 'rotation';
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
  | { kind: 'cleanup.error'; what: string; error: string }
  /** A step that did not run because an earlier one failed or the run was interrupted. */
  | { kind: 'step.skipped'; step: string; index: number; reason: string }
  /** Ctrl-C / SIGTERM reached the scenario runner: it stops, runs cleanups, then ends with scenario.end. */
  | { kind: 'scenario.interrupted'; scenario: string; reason: string }
  | { kind: 'scenario.end'; scenario: string; passed: boolean; durationMs: number; skipped?: string };

export type OperationPhase = 'try' | 'catch' | 'finally' | 'cleanup';

export type RunEvent = LabEvent | ScenarioEvent;

export type Emit = (e: RunEvent) => void;
