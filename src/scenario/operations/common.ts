/** Shared schema pieces and helpers for operation handlers. */
import { z } from 'zod';
import { parseDuration } from '../../time.ts';
import type { OperationHandler } from '../operation.ts';
import type { ScenarioRuntime } from '../runtime.ts';

export type Handler<A> = OperationHandler<ScenarioRuntime, A>;

/** A Go-style duration string ("5s", "1m30s", "250ms"). */
export const durationSchema = z
  .string()
  .refine((s) => parseDuration(s) !== undefined, {
    message: 'expected a duration such as "5s", "1m30s", "250ms"',
  })
  .describe('Go-style duration, e.g. "5s", "1m30s", "250ms"');

export function durationMs(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new Error(`invalid duration ${JSON.stringify(text)}`);
  return ms;
}

export const k8sNameSchema = z
  .string()
  .min(1)
  .max(253)
  .regex(
    /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/,
    'expected a Kubernetes object name (lowercase, digits, "-", ".")',
  );

export const namespaceSchema = k8sNameSchema.describe('Kubernetes namespace');

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
