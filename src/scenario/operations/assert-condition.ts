/** `assertCondition`: an ExternalSecret's or SecretStore's status condition reaches the wanted state. */
import { z } from 'zod';
import { AssertionFailedError, formatMs } from '../../errors.ts';
import {
  findCondition,
  formatCondition,
  formatEvent,
  listEventsFor,
  readEsoObject,
  type Condition,
  type EsoKind,
} from '../../kube/external-secrets.ts';
import { sleep } from '../../time.ts';
import { diagnose } from '../diagnosis.ts';
import { budgetMs, duration, k8sNameSchema, namespaceSchema, templated, type Handler } from './common.ts';
import { gatherEvidence } from './evidence.ts';

const schema = z
  .object({
    externalSecret: k8sNameSchema.optional().describe('ExternalSecret name'),
    secretStore: k8sNameSchema.optional().describe('SecretStore name'),
    clusterSecretStore: k8sNameSchema.optional().describe('ClusterSecretStore name'),
    namespace: namespaceSchema.optional().describe('Namespace (not for clusterSecretStore)'),
    type: z.string().min(1).optional().describe('Condition type (default Ready)'),
    status: z.enum(['True', 'False', 'Unknown']).describe('Wanted condition status'),
    reason: z
      .string()
      .min(1)
      .optional()
      .describe('Wanted reason, e.g. SecretSynced, SecretSyncedError, Valid'),
    messageContains: z
      .string()
      .min(1)
      .optional()
      .describe('Substring the condition message must contain (case-insensitive)'),
    eventContains: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Substring one of the object\'s Events must contain (case-insensitive): ESO puts Vault\'s answer (e.g. "permission denied") in the Event, the condition only says "could not get secret data from provider"',
      ),
    within: templated(duration())
      .optional()
      .describe('How long to wait for it (default: the operation timeout)'),
  })
  .strict()
  .refine((a) => [a.externalSecret, a.secretStore, a.clusterSecretStore].filter(Boolean).length === 1, {
    message: 'give exactly one of externalSecret, secretStore, clusterSecretStore',
  })
  .refine((a) => a.clusterSecretStore !== undefined || a.namespace !== undefined, {
    message: '`namespace` is required',
  })
  .describe('Assert a status condition of an ESO object');
type Args = z.infer<typeof schema>;

function target(a: Args): { kind: EsoKind; name: string } {
  if (a.externalSecret) return { kind: 'ExternalSecret', name: a.externalSecret };
  if (a.secretStore) return { kind: 'SecretStore', name: a.secretStore };
  return { kind: 'ClusterSecretStore', name: a.clusterSecretStore as string };
}

export function conditionMatches(
  c: Condition | undefined,
  a: Pick<Args, 'status' | 'reason' | 'messageContains'>,
): boolean {
  if (!c || c.status !== a.status) return false;
  if (a.reason !== undefined && c.reason !== a.reason) return false;
  if (
    a.messageContains !== undefined &&
    !(c.message ?? '').toLowerCase().includes(a.messageContains.toLowerCase())
  )
    return false;
  return true;
}

/** Event texts span lines (Vault's error bodies); match case-insensitively with whitespace collapsed. */
export function eventMatches(event: string, contains: string): boolean {
  return oneLine(event).toLowerCase().includes(oneLine(contains).toLowerCase());
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

export const assertConditionOperation: Handler<Args> = {
  name: 'assertCondition',
  description: "Assert an ExternalSecret's or store's status condition (e.g. Ready=True SecretSynced).",
  timeoutKind: 'assert',
  schema,
  summarize(a) {
    const t = target(a);
    const extra = [
      a.reason,
      a.messageContains ? `"${a.messageContains}"` : undefined,
      a.eventContains ? `event "${a.eventContains}"` : undefined,
    ]
      .filter(Boolean)
      .join(' ');
    return `assert ${t.kind} ${a.namespace ? `${a.namespace}/` : ''}${t.name} ${a.type ?? 'Ready'}=${a.status}${extra ? ` ${extra}` : ''}`;
  },
  async run(ctx, a) {
    const rt = ctx.runtime;
    const t = target(a);
    const type = a.type ?? 'Ready';
    const started = Date.now();
    const limit = Math.min(a.within ?? Infinity, budgetMs(ctx.timeoutMs));
    let last: Condition | undefined;
    let exists = false;
    let eventSeen = a.eventContains === undefined;
    let lastEvents: string[] = [];
    for (;;) {
      const o = await readEsoObject(rt.kube, t.kind, t.name, a.namespace);
      exists = o !== undefined;
      last = findCondition(o, type);
      if (!eventSeen && exists) {
        lastEvents = (
          await listEventsFor(rt.kube, o?.metadata?.namespace ?? a.namespace ?? 'default', t.kind, t.name)
        ).map(formatEvent);
        eventSeen = lastEvents.some((e) => eventMatches(e, a.eventContains as string));
      }
      if (conditionMatches(last, a) && eventSeen) return { facts: { waitedMs: Date.now() - started } };
      if (Date.now() - started >= limit) break;
      await sleep(Math.min(250, Math.max(0, limit - (Date.now() - started))), ctx.signal);
    }
    const lines: string[] = [`${t.kind} ${t.name}: ${exists ? formatCondition(last) : 'not found'}`];
    if (!eventSeen)
      lines.push(
        `no Event contains "${a.eventContains}"${lastEvents.length ? `; latest: ${oneLine(lastEvents.at(-1) ?? '')}` : ' (no Events)'}`,
      );
    let diagnosis: string | undefined;
    if (t.kind === 'ExternalSecret' && a.namespace) {
      const g = await gatherEvidence(rt, {
        namespace: a.namespace,
        externalSecret: t.name,
        paths: [],
        signal: ctx.signal,
      });
      lines.push(...g.lines);
      diagnosis = diagnose(g.evidence);
    }
    throw new AssertionFailedError(
      `${t.kind} ${t.name}: ${type} did not become ${a.status}${a.reason ? ` (${a.reason})` : ''}${a.eventContains ? ` with an Event containing "${a.eventContains}"` : ''} within ${formatMs(limit)}; last: ${exists ? formatCondition(last) : 'object not found'}`,
      { ...(diagnosis ? { diagnosis } : {}), evidence: lines },
    );
  },
};
