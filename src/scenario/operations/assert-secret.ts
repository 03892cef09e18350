/**
 * `assertSecret`: the Kubernetes Secret holds the values the scenario wrote to Vault. Passes on the first watch
 * event, after the latest Vault write of the involved paths, whose data match; latency = that event's arrival
 * time − Vault's acknowledgement time. `within: refreshWindow` = the ExternalSecret's refreshInterval + slack,
 * measured from the write, and emits a `rotation` event.
 */
import { z } from 'zod';
import { AssertionFailedError, LabError, formatMs } from '../../errors.ts';
import { readEsoObject, refreshIntervalMs } from '../../kube/external-secrets.ts';
import type { SecretEvent } from '../../kube/secret-watcher.ts';
import { formatMasked } from '../../report/redact.ts';
import { diagnose } from '../diagnosis.ts';
import type { ScenarioRuntime } from '../runtime.ts';
import { budgetMs, duration, k8sNameSchema, namespaceSchema, templated, type Handler } from './common.ts';
import { gatherEvidence } from './evidence.ts';
import { MARKED_OPERATIONS, markedAt } from './marks.ts';
import {
  dependsOnKeys,
  expectationSchema,
  involvedPaths,
  matchData,
  resolveExpectations,
  type ResolvedExpectation,
} from './values.ts';

const schema = z
  .object({
    namespace: namespaceSchema,
    name: k8sNameSchema.describe('Secret name'),
    expect: z
      .record(z.string().min(1), expectationSchema)
      .describe('Secret key → "<vaultPath>#<vaultKey>", { value: literal } or { template, from }'),
    absentKeys: z.array(z.string().min(1)).optional().describe('Keys the Secret must not have'),
    exactKeys: z.boolean().optional().describe('The Secret has exactly the expected keys'),
    within: z
      .union([z.literal('refreshWindow'), templated(duration())])
      .optional()
      .describe(
        'Deadline, measured from the latest Vault write: a duration, or "refreshWindow" (the ExternalSecret\'s refreshInterval + slack). Default: the operation timeout',
      ),
    externalSecret: k8sNameSchema
      .optional()
      .describe('The ExternalSecret producing this Secret (for the refresh window and diagnosis)'),
    slack: templated(duration()).optional().describe('Added to the refresh window (default 2s)'),
    measureFrom: z
      .enum(MARKED_OPERATIONS)
      .optional()
      .describe(
        'Measure from the end of the latest run of this operation instead of the Vault write — e.g. `apply` (a spec change, refreshPolicy OnChange), `forceSync`, `unsealVault`: only Secret updates after it count, `within` counts from it, and the fact <operation>ToSecretMs reports it (with backoffDelayed: longer than refreshInterval + slack)',
      ),
  })
  .strict()
  .refine((a) => a.within !== 'refreshWindow' || a.externalSecret !== undefined, {
    message: '`within: refreshWindow` needs `externalSecret`',
  })
  .refine((a) => a.within !== 'refreshWindow' || a.measureFrom === undefined, {
    message: '`measureFrom` takes a duration for `within`, not refreshWindow',
  })
  .describe('Assert that a Secret holds the expected values');
type Args = z.infer<typeof schema>;

const DEFAULT_SLACK_MS = 2_000;

/** Latest Vault ack among the paths (0 when the scenario never wrote them) and the keys of that write. */
export function latestAck(
  rt: Pick<ScenarioRuntime, 'vaultState'>,
  paths: string[],
): { ackAt: number; path?: string; keys: string[] } {
  let best: { ackAt: number; path?: string; keys: string[] } = { ackAt: 0, keys: [] };
  for (const p of paths) {
    const st = rt.vaultState.get(p);
    if (st && st.ackAt > best.ackAt) best = { ackAt: st.ackAt, path: p, keys: st.writes.at(-1)?.keys ?? [] };
  }
  return best;
}

/**
 * A healthy periodic ExternalSecret picks up a value at its next refresh, at most one interval (+ slack) after the
 * event; longer means ESO was waiting out its error backoff (1 s doubling) when Vault came back.
 */
export function backoffDelayed(sinceMs: number, refreshIntervalMs: number, slackMs: number): boolean {
  return refreshIntervalMs > 0 && sinceMs > refreshIntervalMs + slackMs;
}

export const assertSecretOperation: Handler<Args> = {
  name: 'assertSecret',
  description:
    'Assert a Secret holds the values written to Vault, measuring the latency from the Vault write.',
  timeoutKind: 'assert',
  schema,
  summarize: (a) =>
    `assert Secret ${a.namespace}/${a.name} has ${Object.keys(a.expect).join(', ')}${a.within === undefined ? '' : ` within ${typeof a.within === 'number' ? formatMs(a.within) : a.within}`}`,
  async run(ctx, a) {
    const rt = ctx.runtime;
    const started = Date.now();
    const watcher = await rt.watcher(a.namespace, a.name);
    const expected: ResolvedExpectation[] = await resolveExpectations(
      a.expect,
      rt.vaultState,
      rt.vault,
      ctx.signal,
    );
    const paths = involvedPaths(a.expect);
    const ack = latestAck(rt, paths);
    const options = {
      ...(a.absentKeys ? { absentKeys: a.absentKeys } : {}),
      ...(a.exactKeys ? { exactKeys: true } : {}),
    };

    let windowMs: number | undefined;
    if (a.within === 'refreshWindow') {
      const es = await readEsoObject(rt.kube, 'ExternalSecret', a.externalSecret as string, a.namespace);
      const interval = refreshIntervalMs(es) ?? 0;
      windowMs = interval + (a.slack ?? DEFAULT_SLACK_MS);
    } else if (typeof a.within === 'number') windowMs = a.within;

    const markAt = a.measureFrom ? markedAt(rt, a.measureFrom) : undefined;
    if (a.measureFrom && markAt === undefined)
      throw new LabError(
        'E_SCENARIO',
        `assertSecret measureFrom: ${a.measureFrom} has not run in this scenario before this assertion`,
      );
    const from = markAt ?? (ack.ackAt || started);
    const budgetEnd = started + budgetMs(ctx.timeoutMs);
    const deadline = windowMs === undefined ? budgetEnd : Math.min(from + windowMs, budgetEnd);
    const limitedByTimeout = windowMs !== undefined && from + windowMs > budgetEnd;

    const matches = (e: SecretEvent): boolean =>
      e.exists &&
      e.at >= ack.ackAt &&
      (markAt === undefined || e.at >= markAt) &&
      matchData(e.data, expected, options).ok;
    let hit = await watcher.waitFor(matches, { timeoutMs: deadline - Date.now(), signal: ctx.signal });
    let alreadyPresent = false;
    if (!hit) {
      // A write that did not change the expected values (e.g. the same literal) produces no Secret event.
      const latest = watcher.latest();
      if (latest?.exists && matchData(latest.data, expected, options).ok && ack.ackAt > 0) {
        const changed = expected.some((x) => dependsOnKeys(x).some((k) => ack.keys.includes(k)));
        if (!changed) {
          hit = latest;
          alreadyPresent = true;
        }
      }
    }

    const esForEvent =
      a.within === 'refreshWindow' && a.externalSecret
        ? await readEsoObject(rt.kube, 'ExternalSecret', a.externalSecret, a.namespace).catch(() => undefined)
        : undefined;
    const latencyMs = hit && ack.ackAt && !alreadyPresent ? hit.at - ack.ackAt : undefined;
    // Measured from a marked operation, the window counts from it; otherwise from the Vault write.
    const measured = hit && markAt !== undefined ? Math.max(0, hit.at - markAt) : latencyMs;
    const withinWindow =
      hit !== undefined && (windowMs === undefined || measured === undefined || measured <= windowMs);
    if (a.within === 'refreshWindow' && ack.ackAt && ack.path && windowMs !== undefined) {
      const refreshTime = esForEvent?.status?.refreshTime;
      ctx.emit({
        kind: 'rotation',
        path: ack.path,
        keys: ack.keys,
        ackAt: new Date(ack.ackAt).toISOString(),
        ...(hit ? { observedAt: new Date(hit.at).toISOString() } : {}),
        ...(latencyMs !== undefined ? { latencyMs } : {}),
        windowMs,
        secret: `${a.namespace}/${a.name}`,
        withinWindow,
        ...(refreshTime ? { refreshTime } : {}),
      });
    }

    if (hit && withinWindow) {
      // Each time is reported next to the window it was checked against: from the Vault write (latencyMs,
      // windowMs) or, with measureFrom, from that operation (<op>ToSecretMs, windowMs, windowFrom), the time since
      // the write then being sinceWriteMs.
      const facts: Record<string, string | number | boolean> = {};
      if (markAt === undefined && latencyMs !== undefined) facts.latencyMs = latencyMs;
      if (windowMs !== undefined) facts.windowMs = windowMs;
      if (hit.type === 'LISTED' && latencyMs !== undefined) facts.latencyUpperBound = true;
      if (alreadyPresent) facts.alreadyPresent = true;
      if (ack.ackAt) facts.secretVersion = rt.vaultState.get(ack.path ?? '')?.version ?? 0;
      if (a.measureFrom && markAt !== undefined) {
        const sinceMs = Math.max(0, hit.at - markAt);
        facts[`${a.measureFrom}ToSecretMs`] = sinceMs;
        if (windowMs !== undefined) facts.windowFrom = a.measureFrom;
        if (latencyMs !== undefined) facts.sinceWriteMs = latencyMs;
        if (a.externalSecret) {
          const es = await readEsoObject(rt.kube, 'ExternalSecret', a.externalSecret, a.namespace).catch(
            () => undefined,
          );
          const interval = refreshIntervalMs(es);
          if (interval !== undefined) {
            facts.refreshIntervalMs = interval;
            facts.backoffDelayed = backoffDelayed(sinceMs, interval, a.slack ?? DEFAULT_SLACK_MS);
          }
        }
      }
      return { facts };
    }

    const latest = watcher.latest();
    const problems = latest?.exists
      ? matchData(latest.data, expected, options).problems
      : ['Secret does not exist'];
    const { evidence, lines } = await gatherEvidence(rt, {
      namespace: a.namespace,
      ...(a.externalSecret ? { externalSecret: a.externalSecret } : {}),
      watcher,
      paths,
      ...(ack.ackAt ? { ackAt: ack.ackAt } : {}),
      signal: ctx.signal,
    });
    const waited = deadline - from;
    const what = markAt
      ? `within ${formatMs(waited)} of ${a.measureFrom}`
      : ack.ackAt
        ? `within ${formatMs(waited)} of the Vault write`
        : `within ${formatMs(waited)}`;
    const why = limitedByTimeout ? ` (cut short by the operation timeout ${formatMs(ctx.timeoutMs)})` : '';
    throw new AssertionFailedError(
      `Secret ${a.namespace}/${a.name} did not hold the expected values ${what}${why}: ${problems.join('; ')}`,
      {
        diagnosis: diagnose(evidence),
        evidence: [
          `expected: ${formatMasked(Object.fromEntries(expected.map((e) => [e.k8sKey, e.value])))}`,
          ...lines,
        ],
      },
    );
  },
};
