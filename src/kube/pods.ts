/**
 * Pods behind a Deployment: which serve, whether a rollout is complete, and `kubectl rollout restart`. What a
 * container sees comes from the consumer image's own reports (consumer-stream.ts), not from exec.
 */
import {
  AppsV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1Deployment,
  type V1Pod,
} from '@kubernetes/client-node';
import { LabError } from '../errors.ts';
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
