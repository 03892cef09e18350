/**
 * `esoSettled`: wait until ESO has reconciled an ExternalSecret and found nothing to do.
 *
 * Creating the target Secret makes ESO reconcile the ExternalSecret once more. When that reconcile runs before
 * ESO's cache holds the status it just wrote, it reads Vault again (ESO v0.20.4: `shouldRefresh` sees an empty
 * `syncedResourceVersion`), so a rotation made in that moment is picked up by it, not by the refresh interval or a
 * force-sync. Nothing of that shows in the API (its status write conflicts, the Secret is unchanged). ESO's debug
 * log does show it: a reconcile that ends in "skipping refresh" for this ExternalSecret, after the Secret was
 * created, means ESO's cache holds the synced status and no further read comes before the next refresh.
 *
 * The local lab runs ESO at `--loglevel=debug` (the kind lab sets it in the chart's values). A cluster whose ESO
 * logs only at info (`--provider existing`) shows no such line: the operation says so and waits `fallback`
 * instead — the one place where the lab cannot observe and waits a fixed time.
 */
import { z } from 'zod';
import { formatMs } from '../../errors.ts';
import { readEsoObject } from '../../kube/external-secrets.ts';
import { parseEsoLogLine } from '../../kube/eso-log.ts';
import { isNotFound } from '../../kube/client.ts';
import { sleep, waitFor } from '../../time.ts';
import type { OperationOutcome } from '../operation.ts';
import { budgetMs, duration, k8sNameSchema, namespaceSchema, templated, type Handler } from './common.ts';

const schema = z
  .object({
    namespace: namespaceSchema,
    name: k8sNameSchema.describe('ExternalSecret name'),
    within: templated(duration()).optional().describe('How long ESO may take to settle (default 20s)'),
    fallback: templated(duration())
      .optional()
      .describe(
        "How long to wait instead when ESO's log shows no debug lines (ESO not at --loglevel=debug; default 2s)",
      ),
  })
  .strict()
  .describe('Wait until ESO has reconciled an ExternalSecret and found nothing to refresh');
type Args = z.infer<typeof schema>;

/** How many lines of ESO's log to read per look: enough for a busy `scenario all --parallel`. */
const TAIL_LINES = 4000;

/** In ESO's log `tail`: a "skipping refresh" of `object` at or after `sinceMs`, and whether any debug line shows. */
export function findSettled(
  tail: string,
  object: string,
  sinceMs: number,
): { settledAt?: number; debugSeen: boolean } {
  let debugSeen = false;
  let settledAt: number | undefined;
  for (const raw of tail.split('\n')) {
    const l = parseEsoLogLine(raw);
    if (!l) continue;
    if (l.level === 'debug') debugSeen = true;
    if (l.msg === 'skipping refresh' && l.object === object && l.at !== undefined && l.at >= sinceMs)
      settledAt ??= l.at;
  }
  return { ...(settledAt === undefined ? {} : { settledAt }), debugSeen };
}

export const esoSettledOperation: Handler<Args> = {
  name: 'esoSettled',
  description:
    'Wait until ESO has reconciled an ExternalSecret after creating its Secret and found nothing to refresh (ESO debug log).',
  timeoutKind: 'assert',
  schema,
  summarize: (a) => `wait until ESO has settled on ExternalSecret ${a.namespace}/${a.name}`,
  async run(ctx, a): Promise<OperationOutcome> {
    const { kube, lab } = ctx.runtime;
    const es = await readEsoObject(kube, 'ExternalSecret', a.name, a.namespace);
    if (!es) throw new Error(`ExternalSecret ${a.namespace}/${a.name} does not exist`);
    const target = (es.spec as { target?: { name?: string } } | undefined)?.target?.name ?? a.name;
    let createdMs: number;
    try {
      const s = await kube.core.readNamespacedSecret({ name: target, namespace: a.namespace });
      // creationTimestamp has second resolution: its floor is at or before the real creation.
      createdMs = new Date(s.metadata?.creationTimestamp ?? 0).getTime();
    } catch (e) {
      if (isNotFound(e))
        throw new Error(`Secret ${a.namespace}/${target} does not exist yet: nothing to settle`);
      throw e;
    }
    const object = `${a.namespace}/${a.name}`;
    const start = Date.now();
    let debugSeen = false;
    const settledAt = await waitFor(
      async () => {
        const found = findSettled(await lab.esoLogTail(TAIL_LINES), object, createdMs);
        debugSeen ||= found.debugSeen;
        if (found.settledAt !== undefined) return { done: true as const, value: found.settledAt };
        // Without debug lines this cannot be seen: stop looking after a moment and fall back below.
        if (!debugSeen && Date.now() - start > 1000) return { done: true as const, value: undefined };
        return {
          done: false as const,
          seen: debugSeen ? 'no "skipping refresh" yet' : 'no debug line in the ESO log',
        };
      },
      {
        what: `ESO's "skipping refresh" for ${object} after Secret ${target} was created`,
        timeoutMs: Math.min(a.within ?? 20_000, budgetMs(ctx.timeoutMs, 500)),
        intervalMs: 50,
        signal: ctx.signal,
      },
    );
    if (settledAt !== undefined)
      return { facts: { settledAfterCreateMs: settledAt - createdMs, waitedMs: Date.now() - start } };
    const fallback = a.fallback ?? 2000;
    await sleep(fallback, ctx.signal);
    return {
      facts: {
        settled: `not observable: ESO's log has no debug lines (not --loglevel=debug); waited ${formatMs(fallback)}`,
      },
    };
  },
};
