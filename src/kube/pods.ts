/**
 * Pods behind a Deployment, reading what a container sees (a file, an environment variable) through the
 * Kubernetes exec API, and `kubectl rollout restart`. Needs a kubelet: used by consumer scenarios on kind.
 */
import { Writable } from 'node:stream';
import {
  AppsV1Api,
  Exec,
  PatchStrategy,
  setHeaderOptions,
  type V1Deployment,
  type V1Pod,
  type V1Status,
} from '@kubernetes/client-node';
import { LabError, errorMessage } from '../errors.ts';
import type { KubeClients } from './client.ts';

function apps(kube: KubeClients): AppsV1Api {
  return kube.kc.makeApiClient(AppsV1Api);
}

export async function readDeployment(
  kube: KubeClients,
  namespace: string,
  name: string,
): Promise<V1Deployment> {
  return apps(kube).readNamespacedDeployment({ name, namespace });
}

/** `app=x,tier=y` from a Deployment's matchLabels. */
export function labelSelector(d: V1Deployment): string {
  const labels = d.spec?.selector.matchLabels ?? {};
  const sel = Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  if (!sel) throw new LabError('E_KUBE', `Deployment ${d.metadata?.name ?? ''} has no matchLabels selector`);
  return sel;
}

/** Running, Ready, not terminating. */
export function podIsServing(p: V1Pod): boolean {
  return (
    p.status?.phase === 'Running' &&
    !p.metadata?.deletionTimestamp &&
    (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
  );
}

export async function servingPods(
  kube: KubeClients,
  namespace: string,
  deployment: string,
): Promise<V1Pod[]> {
  const d = await readDeployment(kube, namespace, deployment);
  const list = await kube.core.listNamespacedPod({ namespace, labelSelector: labelSelector(d) });
  return list.items.filter(podIsServing);
}

/**
 * Has a rollout finished, as `kubectl rollout status` judges it: the controller has seen the latest spec, every
 * replica is updated and available, and no old replica is left.
 */
export function rolloutComplete(d: V1Deployment): boolean {
  const want = d.spec?.replicas ?? 1;
  const s = d.status;
  return (
    (s?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
    (s?.updatedReplicas ?? 0) === want &&
    (s?.availableReplicas ?? 0) === want &&
    (s?.replicas ?? 0) === want
  );
}

/** The patch `kubectl rollout restart` sends. */
export function restartPatch(at: Date): {
  spec: { template: { metadata: { annotations: Record<string, string> } } };
} {
  return {
    spec: {
      template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': at.toISOString() } } },
    },
  };
}

export async function restartDeployment(kube: KubeClients, namespace: string, name: string): Promise<void> {
  await apps(kube).patchNamespacedDeployment(
    { name, namespace, body: restartPatch(new Date()) },
    setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
  );
}

/** Set annotations on a Deployment's pod template (a change rolls out new pods). */
export async function patchPodTemplateAnnotations(
  kube: KubeClients,
  namespace: string,
  name: string,
  annotations: Record<string, string>,
): Promise<void> {
  await apps(kube).patchNamespacedDeployment(
    { name, namespace, body: { spec: { template: { metadata: { annotations } } } } },
    setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
  );
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** 0 on success; undefined when the status did not say. */
  exitCode?: number;
}

/** Exit code from the exec status channel: Success → 0, NonZeroExitCode → the ExitCode cause. */
export function exitCodeOf(status: V1Status): number | undefined {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  return cause?.message !== undefined ? Number(cause.message) : 1;
}

function collector(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  return {
    stream: new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(Buffer.from(chunk));
        cb();
      },
    }),
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}

/** Run a command in a container and collect its output (which may hold secret values: callers never print it). */
export async function execInPod(
  kube: KubeClients,
  o: { namespace: string; pod: string; container: string; command: string[]; timeoutMs: number },
): Promise<ExecResult> {
  const out = collector();
  const err = collector();
  let status: V1Status | undefined;
  const ws = await new Exec(kube.kc).exec(
    o.namespace,
    o.pod,
    o.container,
    o.command,
    out.stream,
    err.stream,
    null,
    false,
    (s) => {
      status = s;
    },
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.close();
      reject(new LabError('E_KUBE', `exec in ${o.namespace}/${o.pod}: no answer within ${o.timeoutMs} ms`));
    }, o.timeoutMs);
    ws.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
    ws.on('error', (e: unknown) => {
      clearTimeout(timer);
      reject(new LabError('E_KUBE', `exec in ${o.namespace}/${o.pod}: ${errorMessage(e)}`, { cause: e }));
    });
  });
  return { stdout: out.text(), stderr: err.text(), ...(status ? { exitCode: exitCodeOf(status) } : {}) };
}
