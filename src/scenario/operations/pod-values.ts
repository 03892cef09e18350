/**
 * `assertPodFile` / `assertPodEnv`: what a consuming container sees, read through the exec API (`cat <path>`,
 * `printenv <NAME>`) in every serving pod of a Deployment. `state: current` waits until every pod holds the value
 * the scenario last wrote to Vault (a volume follows within the kubelet sync period); `state: stale` asserts for a
 * while that no pod holds it yet (env vars and subPath mounts keep the old value until the pod restarts).
 * Needs a kubelet: scenarios using these declare `requires: [kind]`. Values are compared, never printed.
 */
import { z } from 'zod';
import { AssertionFailedError, errorMessage, formatMs } from '../../errors.ts';
import { execInPod, servingPods } from '../../kube/pods.ts';
import { shortHash } from '../../secrets/secret-registry.ts';
import { sleep } from '../../time.ts';
import { latestAck } from './assert-secret.ts';
import { budgetMs, duration, k8sNameSchema, namespaceSchema, templated, type Handler } from './common.ts';
import { expectationSchema, involvedPaths, resolveExpectations } from './values.ts';

const POLL_MS = 1_000;

export interface PodValue {
  pod: string;
  /** undefined: the file or variable is missing (or exec failed: see `error`). */
  value?: string;
  error?: string;
}

/** Does every pod hold (`current`) or not yet hold (`stale`) the expected value? Problems name pods and hashes. */
export function judgePodValues(
  values: readonly PodValue[],
  expected: string,
  state: 'current' | 'stale',
): { ok: boolean; problems: string[] } {
  if (values.length === 0) return { ok: false, problems: ['no serving pod'] };
  const problems: string[] = [];
  for (const v of values) {
    if (v.value === undefined) problems.push(`${v.pod}: ${v.error ?? 'no value'}`);
    else if (state === 'current' && v.value !== expected)
      problems.push(`${v.pod}: has sha256:${shortHash(v.value)}, expected sha256:${shortHash(expected)}`);
    else if (state === 'stale' && v.value === expected)
      problems.push(`${v.pod}: already holds the current value sha256:${shortHash(expected)}`);
  }
  return { ok: problems.length === 0, problems };
}

/** `printenv` ends the value with a newline; a file is compared byte for byte. */
export function podOutputValue(kind: 'file' | 'env', stdout: string): string {
  return kind === 'env' ? stdout.replace(/\n$/, '') : stdout;
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

function what(a: Args): string {
  return a.kind === 'file' ? `file ${a.path}` : `env ${a.env}`;
}

async function run(ctx: Parameters<Handler<FileArgs>['run']>[0], a: Args) {
  const rt = ctx.runtime;
  const [exp] = await resolveExpectations({ value: a.expect }, rt.vaultState, rt.vault, ctx.signal);
  const expected = exp?.value ?? '';
  const ack = latestAck(rt, involvedPaths({ value: a.expect }));
  const state = a.state ?? 'current';
  const started = Date.now();
  const period = state === 'stale' ? (a.for ?? 0) : (a.within ?? Infinity);
  const deadline = started + Math.min(period, budgetMs(ctx.timeoutMs));
  const command = a.kind === 'file' ? ['cat', a.path] : ['printenv', a.env];

  const readAll = async (): Promise<PodValue[]> => {
    const pods = await servingPods(rt.kube, a.namespace, a.deployment);
    return Promise.all(
      pods.map(async (p): Promise<PodValue> => {
        const pod = p.metadata?.name ?? '?';
        const container = a.container ?? p.spec?.containers[0]?.name ?? '';
        try {
          const r = await execInPod(rt.kube, {
            namespace: a.namespace,
            pod,
            container,
            command,
            timeoutMs: 10_000,
          });
          if (r.exitCode !== 0) return { pod, error: `${command.join(' ')} exited ${r.exitCode ?? '?'}` };
          return { pod, value: podOutputValue(a.kind, r.stdout) };
        } catch (e) {
          return { pod, error: errorMessage(e) };
        }
      }),
    );
  };

  let last: { ok: boolean; problems: string[] } = { ok: false, problems: ['not read yet'] };
  for (;;) {
    const values = await readAll();
    last = judgePodValues(values, expected, state);
    if (state === 'current' && last.ok) {
      const facts: Record<string, number> = { pods: values.length, waitedMs: Date.now() - started };
      if (ack.ackAt) facts.latencyMs = Date.now() - ack.ackAt;
      return { facts };
    }
    if (state === 'stale' && !last.ok) break;
    if (Date.now() >= deadline) {
      if (state === 'stale') return { facts: { pods: values.length, heldMs: Date.now() - started } };
      break;
    }
    await sleep(Math.min(POLL_MS, Math.max(0, deadline - Date.now())), ctx.signal);
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

export const assertPodFileOperation: Handler<FileArgs> = {
  name: 'assertPodFile',
  description:
    "Assert a file in a Deployment's pods (exec `cat`) holds the current Vault value, or still the old one (kind only).",
  timeoutKind: 'assert',
  schema: fileSchema,
  summarize: (a) =>
    `assert ${a.namespace}/${a.deployment} file ${a.path} ${a.state === 'stale' ? `keeps the old value for ${formatMs(a.for ?? 0)}` : 'holds the current value'}`,
  run: (ctx, a) => run(ctx, { ...a, kind: 'file' }),
};

export const assertPodEnvOperation: Handler<EnvArgs> = {
  name: 'assertPodEnv',
  description:
    "Assert an environment variable in a Deployment's pods (exec `printenv`) holds the current Vault value, or still the old one (kind only).",
  timeoutKind: 'assert',
  schema: envSchema,
  summarize: (a) =>
    `assert ${a.namespace}/${a.deployment} env ${a.env} ${a.state === 'stale' ? `keeps the old value for ${formatMs(a.for ?? 0)}` : 'holds the current value'}`,
  run: (ctx, a) => run(ctx, { ...a, kind: 'env' }),
};
