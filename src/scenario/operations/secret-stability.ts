/** `expectUnchanged` and `assertSecretAbsent`: watch-based checks over a period of time. */
import { z } from 'zod';
import { AssertionFailedError, formatMs } from '../../errors.ts';
import type { SecretEvent } from '../../kube/secret-watcher.ts';
import { formatMasked } from '../../secrets/secret-registry.ts';
import type { OperationOutcome } from '../operation.ts';
import { budgetMs, duration, k8sNameSchema, namespaceSchema, templated, type Handler } from './common.ts';

/** Keys whose values differ between two data maps (added, removed or changed). */
export function changedKeys(a: Record<string, string>, b: Record<string, string>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => a[k] !== b[k]).sort();
}

const unchangedSchema = z
  .object({
    namespace: namespaceSchema,
    name: k8sNameSchema.describe('Secret name'),
    for: templated(duration()).describe('How long the data must stay as it is'),
  })
  .strict()
  .describe("Assert a Secret's data does not change for a while");
type UnchangedArgs = z.infer<typeof unchangedSchema>;

export const expectUnchangedOperation: Handler<UnchangedArgs> = {
  name: 'expectUnchanged',
  description: "Assert a Secret's data does not change for a duration (e.g. while Vault is sealed).",
  timeoutKind: 'assert',
  schema: unchangedSchema,
  summarize: (a) => `expect Secret ${a.namespace}/${a.name} unchanged for ${formatMs(a.for)}`,
  async run(ctx, a) {
    const watcher = await ctx.runtime.watcher(a.namespace, a.name);
    const start = Date.now();
    const base = watcher.latest();
    const baseData = base?.exists ? base.data : undefined;
    const differs = (e: SecretEvent): boolean =>
      e.at >= start &&
      (e.exists
        ? baseData === undefined || changedKeys(baseData, e.data).length > 0
        : baseData !== undefined);
    const period = Math.min(a.for, budgetMs(ctx.timeoutMs, 500));
    const change = await watcher.waitFor(differs, { timeoutMs: period, signal: ctx.signal });
    if (!change) return { facts: { watchedMs: Date.now() - start } };
    const what = !change.exists
      ? 'was deleted'
      : baseData === undefined
        ? 'was created'
        : `changed keys ${changedKeys(baseData, change.data).join(', ')}`;
    throw new AssertionFailedError(
      `Secret ${a.namespace}/${a.name} ${what} ${formatMs(change.at - start)} into a ${formatMs(a.for)} hold`,
      {
        evidence: [
          `before: ${baseData ? formatMasked(baseData) : 'absent'}`,
          `after (${change.type}, rv ${change.resourceVersion}): ${change.exists ? formatMasked(change.data) : 'absent'}`,
        ],
      },
    );
  },
};

const absentSchema = z
  .object({
    namespace: namespaceSchema,
    name: k8sNameSchema.describe('Secret name'),
    for: templated(duration())
      .optional()
      .describe('The Secret must stay absent this long (e.g. a denied policy)'),
    within: templated(duration())
      .optional()
      .describe('The Secret must be gone within this time (e.g. garbage collection)'),
  })
  .strict()
  .refine((a) => !(a.for !== undefined && a.within !== undefined), {
    message: 'give `for` or `within`, not both',
  })
  .describe('Assert a Secret does not exist');
type AbsentArgs = z.infer<typeof absentSchema>;

export const assertSecretAbsentOperation: Handler<AbsentArgs> = {
  name: 'assertSecretAbsent',
  description:
    'Assert a Secret does not exist: now, for a duration (`for`), or after at most `within` (deletion).',
  timeoutKind: 'assert',
  schema: absentSchema,
  summarize: (a) =>
    `assert Secret ${a.namespace}/${a.name} absent${a.for !== undefined ? ` for ${formatMs(a.for)}` : ''}${a.within !== undefined ? ` within ${formatMs(a.within)}` : ''}`,
  async run(ctx, a): Promise<OperationOutcome | void> {
    const watcher = await ctx.runtime.watcher(a.namespace, a.name);
    const start = Date.now();
    const budget = budgetMs(ctx.timeoutMs, 500);
    const describe = (e: SecretEvent | undefined): string =>
      e?.exists
        ? `${formatMasked(e.data)}${e.owners.length ? `, owned by ${e.owners.join(', ')}` : ''}`
        : 'absent';

    if (a.within !== undefined) {
      const gone = await watcher.waitFor((e) => e === watcher.latest() && !e.exists, {
        timeoutMs: Math.min(a.within, budget),
        signal: ctx.signal,
      });
      if (gone) return { facts: { waitedMs: Date.now() - start } };
      throw new AssertionFailedError(
        `Secret ${a.namespace}/${a.name} still exists after ${formatMs(a.within)}`,
        {
          diagnosis: watcher.latest()?.owners.length
            ? 'the Secret is still there: garbage collection has not removed it (is kube-controller-manager running?)'
            : 'the Secret has no owner reference: garbage collection will never delete it (creationPolicy not Owner?)',
          evidence: [watcher.describeLatest()],
        },
      );
    }

    const latest = watcher.latest();
    if (latest?.exists)
      throw new AssertionFailedError(`Secret ${a.namespace}/${a.name} exists: ${describe(latest)}`, {
        evidence: [watcher.describeLatest()],
      });
    if (a.for === undefined) return;
    const appeared = await watcher.waitFor((e) => e.at >= start && e.exists, {
      timeoutMs: Math.min(a.for, budget),
      signal: ctx.signal,
    });
    if (!appeared) return { facts: { watchedMs: Date.now() - start } };
    throw new AssertionFailedError(
      `Secret ${a.namespace}/${a.name} appeared ${formatMs(appeared.at - start)} into a ${formatMs(a.for)} absence`,
      { evidence: [`seen: ${describe(appeared)}`] },
    );
  },
};
