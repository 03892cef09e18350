/** Shared schema pieces and helpers for operation handlers. */
import { z } from 'zod';
import type { OperationHandler } from '../operation.ts';
import type { ScenarioRuntime } from '../runtime.ts';

export type Handler<A> = OperationHandler<ScenarioRuntime, A>;

/** Durations come from the engine's schema helper: a Go-style string in YAML, milliseconds in `run()`. */
export { duration, templated } from '../schema.ts';

import { templated } from '../schema.ts';

const k8sName = z
  .string()
  .min(1)
  .max(253)
  .regex(
    /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/,
    'expected a Kubernetes object name (lowercase, digits, "-", ".")',
  );

/** A Kubernetes object name, or a `${...}` template of one (checked again after substitution). */
export const k8sNameSchema = templated(k8sName).describe('Kubernetes object name');

export const namespaceSchema = templated(k8sName).describe('Kubernetes namespace');

/** A KV v2 path relative to the mount (`my-app/config`); a leading `secret/` or `secret/data/` is tolerated. */
export const vaultPathSchema = z
  .string()
  .min(1)
  .regex(/^[^#\s]+$/, 'a Vault path has no spaces or "#"')
  .describe('KV v2 path, relative to the KV mount (e.g. "my-app/config")');

/** Fault operations and others that take no arguments accept `{}` or null. */
export const emptySchema = z
  .union([z.object({}).strict(), z.null()])
  .transform(() => ({}) as Record<string, never>)
  .describe('No arguments: `{}`');

/** Time left before the operation's own timeout, minus a reserve for building a diagnosis. */
export function budgetMs(timeoutMs: number, reserveMs = 3_000): number {
  return Math.max(500, timeoutMs - Math.min(reserveMs, timeoutMs / 4));
}
