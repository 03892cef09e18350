/**
 * `assertPodFile` / `assertPodEnv`: what a consuming container sees, from the consumer image's own reports (one
 * JSON line per reading, followed through the log API — see src/kube/consumer-stream.ts). `state: current` waits
 * until every serving pod of a Deployment reports the value the scenario last wrote to Vault (a volume follows
 * within the kubelet sync period) and measures the hops: Vault ack → Secret updated (the watch) → file written by
 * the kubelet (its mtime) → read by the application. `state: stale` holds for a while and asserts no pod reports it
 * (env vars and subPath mounts keep the old value until the pod restarts) while the pods keep reporting.
 * Values are compared as short hashes; they never leave the pod.
 */
import { z } from 'zod';
import type { V1Pod } from '@kubernetes/client-node';
import { AssertionFailedError, formatMs } from '../../errors.ts';
import { readDeployment, servingPods } from '../../kube/pods.ts';
import type { ConsumerReport, ContainerStream } from '../../kube/consumer-stream.ts';
import { shortHash } from '../../report/redact.ts';
import { latestAck } from './assert-secret.ts';
import { budgetMs, duration, k8sNameSchema, namespaceSchema, templated, type Handler } from './common.ts';
import { expectationSchema, involvedPaths, resolveExpectations } from './values.ts';

/** A pod's newest report for the source (undefined: none yet). */
export interface PodReading {
  pod: string;
  report?: ConsumerReport;
  /** The first report of the value the pod reports now (when it changed to it). */
  first?: ConsumerReport;
  /** The Secret the source reads (from the pod spec). */
  secret?: string;
  /** Why there is no report (stream error, or what the container printed instead). */
  error?: string;
}

/** Does every pod report (`current`) or not yet report (`stale`) the expected hash? Problems name pods and hashes. */
export function judgePodValues(
  readings: readonly PodReading[],
  expectedHash: string,
  state: 'current' | 'stale',
): { ok: boolean; problems: string[] } {
  if (readings.length === 0) return { ok: false, problems: ['no serving pod'] };
  const problems: string[] = [];
  for (const r of readings) {
    const h = r.report?.sha256;
    if (!r.report) problems.push(`${r.pod}: ${r.error ?? 'no consumer report yet'}`);
    else if (h === null) problems.push(`${r.pod}: ${r.report.error ?? 'no value'}`);
    else if (state === 'current' && h !== expectedHash)
      problems.push(`${r.pod}: has sha256:${h}, expected sha256:${expectedHash}`);
    else if (state === 'stale' && h === expectedHash)
      problems.push(`${r.pod}: already holds the current value sha256:${expectedHash}`);
  }
  return { ok: problems.length === 0, problems };
}

/** The hops of one rotation as seen by one pod (ms; absent when a timestamp is unknown). */
export function hops(o: {
  ackAt?: number;
  secretAt?: number;
  report: ConsumerReport;
}): Record<string, number> {
  const f: Record<string, number> = {};
  const { ackAt, secretAt, report } = o;
  if (ackAt) f.ackToReadMs = report.readAt - ackAt;
  if (ackAt && secretAt) f.ackToSecretMs = secretAt - ackAt;
  if (secretAt && report.writtenAt) f.secretToFileMs = report.writtenAt - secretAt;
  if (report.writtenAt) f.fileToReadMs = report.readAt - report.writtenAt;
  if (secretAt) f.secretToReadMs = report.readAt - secretAt;
  return f;
}

/** The Secret a source reads, from the pod spec (env var → secretKeyRef; file → the Secret volume mounted there). */
export function secretForSource(
  pod: V1Pod,
  container: string | undefined,
  source: string,
): string | undefined {
  const c = pod.spec?.containers.find((x) => x.name === container) ?? pod.spec?.containers[0];
  if (!c) return undefined;
  if (source.startsWith('env:')) {
    const name = source.slice(4);
    return c.env?.find((e) => e.name === name)?.valueFrom?.secretKeyRef?.name;
  }
  const path = source.slice(5);
  const mount = (c.volumeMounts ?? [])
    .filter((m) => path === m.mountPath || path.startsWith(m.mountPath.replace(/\/?$/, '/')))
    .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
  return pod.spec?.volumes?.find((v) => v.name === mount?.name)?.secret?.secretName;
}

const common = {
  namespace: namespaceSchema,
  deployment: k8sNameSchema.describe('Deployment whose serving pods are read'),
  container: k8sNameSchema.optional().describe('Container (default: the first one)'),
  expect: expectationSchema,
  state: z
    .enum(['current', 'stale'])
    .optional()
    .describe(
      'current (default): every pod holds the value Vault holds now, within `within`; stale: no pod holds it during `for`',
    ),
  within: templated(duration())
    .optional()
    .describe('For state current: deadline (default: the operation timeout)'),
  for: templated(duration()).optional().describe('For state stale: how long the old value must stay'),
};

const fileSchema = z
  .object({
    ...common,
    path: z.string().regex(/^\//, 'an absolute path').describe('File path in the container'),
  })
  .strict()
  .refine((a) => (a.state ?? 'current') === 'stale' || a.for === undefined, {
    message: '`for` goes with state: stale',
  })
  .refine((a) => a.state !== 'stale' || a.for !== undefined, { message: 'state: stale needs `for`' })
  .describe('Assert what a file in the consuming pods holds');
const envSchema = z
  .object({
    ...common,
    env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')
      .describe('Variable name'),
  })
  .strict()
  .refine((a) => (a.state ?? 'current') === 'stale' || a.for === undefined, {
    message: '`for` goes with state: stale',
  })
  .refine((a) => a.state !== 'stale' || a.for !== undefined, { message: 'state: stale needs `for`' })
  .describe('Assert what an environment variable in the consuming pods holds');
type FileArgs = z.infer<typeof fileSchema>;
type EnvArgs = z.infer<typeof envSchema>;
type Args = (FileArgs & { kind: 'file' }) | (EnvArgs & { kind: 'env' });

function sourceOf(a: Args): string {
  return a.kind === 'file' ? `file:${a.path}` : `env:${a.env}`;
}

function what(a: Args): string {
  return a.kind === 'file' ? `file ${a.path}` : `env ${a.env}`;
}

async function run(ctx: Parameters<Handler<FileArgs>['run']>[0], a: Args) {
  const rt = ctx.runtime;
  const [exp] = await resolveExpectations({ value: a.expect }, rt.vaultState, rt.vault, ctx.signal);
  const expectedHash = shortHash(exp?.value ?? '');
  const ack = latestAck(rt, involvedPaths({ value: a.expect }));
  const source = sourceOf(a);
  const state = a.state ?? 'current';
  const started = Date.now();
  const period = state === 'stale' ? (a.for ?? 0) : (a.within ?? Infinity);
  const deadline = started + Math.min(period, budgetMs(ctx.timeoutMs));
  await readDeployment(rt.kube, a.namespace, a.deployment); // a missing Deployment fails here, by name

  let streams: { pod: V1Pod; stream: ContainerStream }[] = [];
  const refreshPods = async () => {
    const pods = await servingPods(rt.kube, a.namespace, a.deployment);
    streams = pods.map((p) => ({
      pod: p,
      stream: rt.consumers.for(
        a.namespace,
        p.metadata?.name ?? '',
        a.container ?? p.spec?.containers[0]?.name ?? '',
      ),
    }));
  };
  const readings = (): PodReading[] =>
    streams.map(({ pod, stream }) => {
      const report = stream.latest(source);
      const other = stream.otherLines[0];
      const first = report
        ? stream.reports.find(
            (x) =>
              x.source === source &&
              x.sha256 === report.sha256 &&
              x.seq > 0 &&
              x.readAt >= lastChangeBefore(stream, report),
          )
        : undefined;
      const secret = secretForSource(pod, a.container, source);
      return {
        pod: pod.metadata?.name ?? '?',
        ...(report ? { report } : {}),
        ...(first ? { first } : {}),
        ...(secret ? { secret } : {}),
        ...(!report
          ? {
              error:
                stream.lastError ??
                (other
                  ? `prints no consumer reports for ${source} (first line: ${JSON.stringify(other.slice(0, 80))}); pod checks need the lab's consumer image`
                  : `no consumer report for ${source} yet`),
            }
          : {}),
      };
    });

  let last = { ok: false, problems: ['not read yet'] } as { ok: boolean; problems: string[] };
  // Re-judge on every report; the pod list itself is re-read at most once a second (rollouts replace pods).
  let lastPodRefresh = 0;
  for (;;) {
    if (Date.now() - lastPodRefresh >= 1000) {
      await refreshPods();
      lastPodRefresh = Date.now();
    }
    const r = readings();
    last = judgePodValues(r, expectedHash, state);
    if (state === 'current' && last.ok)
      return { facts: currentFacts(rt, a.namespace, r, ack.ackAt, started) };
    if (state === 'stale' && !last.ok && r.every((x) => x.report?.sha256 !== undefined)) break;
    const now = Date.now();
    if (now >= deadline) {
      if (state === 'stale') {
        // The pods must have kept reporting during the hold (a dead consumer proves nothing).
        const silent = streams.filter(({ stream }) => (stream.latest(source)?.receivedAt ?? 0) < started);
        if (silent.length === 0 && r.length > 0)
          return { facts: { pods: r.length, heldMs: now - started, sha256: r[0]?.report?.sha256 ?? '' } };
        last = {
          ok: false,
          problems: silent.map(({ pod }) => `${pod.metadata?.name ?? '?'}: no report during the hold`),
        };
      }
      break;
    }
    await waitForReport(
      streams.map((s) => s.stream),
      Math.min(deadline - now, 1000),
      ctx.signal,
    );
  }
  throw new AssertionFailedError(
    state === 'current'
      ? `Deployment ${a.namespace}/${a.deployment}: ${what(a)} did not hold the current value (${exp?.source}) within ${formatMs(deadline - started)}`
      : `Deployment ${a.namespace}/${a.deployment}: ${what(a)} did not keep the old value for ${formatMs(period)}`,
    {
      diagnosis:
        state === 'current'
          ? a.kind === 'env'
            ? 'environment variables are read once at container start: restart the pods (kubectl rollout restart)'
            : 'a volume follows the Secret within the kubelet sync period (a subPath mount never does): check the mount and the kubelet syncFrequency'
          : 'the pods already hold the new value: were they restarted, or is this a plain volume mount?',
      evidence: last.problems,
    },
  );
}

/** When the value reported last began: the time of the newest report with a different value (0: none). */
function lastChangeBefore(stream: ContainerStream, report: ConsumerReport): number {
  for (let i = stream.reports.length - 1; i >= 0; i--) {
    const x = stream.reports[i]!;
    if (x.source === report.source && x.sha256 !== report.sha256) return x.readAt;
  }
  return 0;
}

/** Facts of a passed `current` check: the slowest pod's hops for this value. */
function currentFacts(
  rt: Parameters<Handler<FileArgs>['run']>[0]['runtime'],
  namespace: string,
  readings: PodReading[],
  ackAt: number,
  started: number,
): Record<string, number | string> {
  const facts: Record<string, number | string> = { pods: readings.length, waitedMs: Date.now() - started };
  const slowest = [...readings].sort((x, y) => (y.first?.readAt ?? 0) - (x.first?.readAt ?? 0))[0];
  const first = slowest?.first ?? slowest?.report;
  if (!slowest || !first) return facts;
  // The Secret's update as the watch saw it: the first event after the Vault write whose data changed.
  const w = slowest.secret ? rt.watchers.get(`${namespace}/${slowest.secret}`) : undefined;
  const secretAt = ackAt > 0 ? w?.history.find((e) => e.at >= ackAt && e.type === 'MODIFIED')?.at : undefined;
  // Only a report that followed the write measures this rotation (an initial read predates it).
  if (ackAt > 0 && first.readAt >= ackAt) {
    Object.assign(facts, hops({ ackAt, ...(secretAt ? { secretAt } : {}), report: first }));
    facts.latencyMs = first.readAt - ackAt;
  }
  facts.sha256 = first.sha256 ?? '';
  // What the node's kubelet is configured to, and what Kubernetes' default would allow for a volume.
  const sync = rt.lab.connection.node?.syncFrequency;
  if (sync && first.source.startsWith('file:')) {
    facts.kubeletSyncFrequency = sync;
    facts.defaultSyncUpToMs = KUBELET_DEFAULT_SYNC.periodMs * (1 + KUBELET_DEFAULT_SYNC.jitter);
  }
  return facts;
}

/** Kubernetes' default kubelet syncFrequency (1m) and its jitter (up to +50%). */
export const KUBELET_DEFAULT_SYNC = { periodMs: 60_000, jitter: 0.5 };

function waitForReport(streams: ContainerStream[], ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const offs: (() => void)[] = [];
    const done = () => {
      clearTimeout(timer);
      for (const off of offs) off();
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    for (const s of streams) offs.push(s.onChange(done));
    signal.addEventListener('abort', done, { once: true });
  });
}

export const assertPodFileOperation: Handler<FileArgs> = {
  name: 'assertPodFile',
  description:
    "Assert a file in a Deployment's pods holds the current Vault value (or still the old one), from the consumer image's reports; measures file-written and app-read hops (needs a node).",
  timeoutKind: 'assert',
  schema: fileSchema,
  summarize: (a) =>
    `assert ${a.namespace}/${a.deployment} file ${a.path} ${a.state === 'stale' ? `keeps the old value for ${formatMs(a.for ?? 0)}` : 'holds the current value'}`,
  run: (ctx, a) => run(ctx, { ...a, kind: 'file' }),
};

export const assertPodEnvOperation: Handler<EnvArgs> = {
  name: 'assertPodEnv',
  description:
    "Assert an environment variable in a Deployment's pods holds the current Vault value (or still the old one), from the consumer image's reports (needs a node).",
  timeoutKind: 'assert',
  schema: envSchema,
  summarize: (a) =>
    `assert ${a.namespace}/${a.deployment} env ${a.env} ${a.state === 'stale' ? `keeps the old value for ${formatMs(a.for ?? 0)}` : 'holds the current value'}`,
  run: (ctx, a) => run(ctx, { ...a, kind: 'env' }),
};
