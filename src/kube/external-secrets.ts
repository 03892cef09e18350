/**
 * Reading what ESO says about its objects: ExternalSecret / SecretStore status conditions, refresh time and
 * interval, and the Kubernetes Events recorded for an object. Also the force-sync annotation.
 */
import { PatchStrategy, type CoreV1Event, type KubernetesObject } from '@kubernetes/client-node';
import { parseDuration } from '../time.ts';
import { isNotFound, type KubeClients } from './client.ts';
import { FIELD_MANAGER } from './apply.ts';

export const ESO_API_VERSION = 'external-secrets.io/v1';

export type EsoKind = 'ExternalSecret' | 'SecretStore' | 'ClusterSecretStore';

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface EsoObject extends KubernetesObject {
  spec?: Record<string, unknown>;
  status?: {
    conditions?: Condition[];
    refreshTime?: string;
    syncedResourceVersion?: string;
    binding?: { name?: string };
  };
}

export async function readEsoObject(
  kube: KubeClients,
  kind: EsoKind,
  name: string,
  namespace?: string,
): Promise<EsoObject | undefined> {
  try {
    return (await kube.objects.read({
      apiVersion: ESO_API_VERSION,
      kind,
      metadata: { name, ...(namespace && kind !== 'ClusterSecretStore' ? { namespace } : {}) },
    })) as EsoObject;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

export function findCondition(o: EsoObject | undefined, type = 'Ready'): Condition | undefined {
  return o?.status?.conditions?.find((c) => c.type === type);
}

export function formatCondition(c: Condition | undefined): string {
  if (!c) return 'no condition';
  const reason = c.reason ? ` ${c.reason}` : '';
  const msg = c.message ? `: ${c.message}` : '';
  return `${c.type}=${c.status}${reason}${msg}`;
}

/** `spec.refreshInterval` in ms (ESO's default is 1h; "0" = never refresh). */
export function refreshIntervalMs(es: EsoObject | undefined): number | undefined {
  const raw = es?.spec?.refreshInterval;
  if (raw === undefined || raw === null || raw === '') return 3_600_000;
  return parseDuration(String(raw));
}

export function refreshPolicy(es: EsoObject | undefined): string {
  const p = es?.spec?.refreshPolicy;
  return typeof p === 'string' ? p : 'Periodic';
}

/** The store an ExternalSecret references: kind defaults to SecretStore. */
export function storeRef(es: EsoObject | undefined): { kind: EsoKind; name: string } | undefined {
  const ref = es?.spec?.secretStoreRef as { name?: string; kind?: string } | undefined;
  if (!ref?.name) return undefined;
  return { kind: ref.kind === 'ClusterSecretStore' ? 'ClusterSecretStore' : 'SecretStore', name: ref.name };
}

/** Events recorded for one object, oldest first. */
export async function listEventsFor(
  kube: KubeClients,
  namespace: string,
  kind: string,
  name: string,
): Promise<CoreV1Event[]> {
  const list = await kube.core.listNamespacedEvent({
    namespace,
    fieldSelector: `involvedObject.kind=${kind},involvedObject.name=${name}`,
  });
  const time = (e: CoreV1Event): number =>
    new Date(
      (e.lastTimestamp as unknown as string | Date | undefined) ??
        (e.eventTime as unknown as string | Date | undefined) ??
        (e.metadata.creationTimestamp as unknown as string | Date | undefined) ??
        0,
    ).getTime();
  return [...list.items].sort((a, b) => time(a) - time(b));
}

export function formatEvent(e: CoreV1Event): string {
  const count = e.count && e.count > 1 ? ` (x${e.count})` : '';
  return `${e.type ?? 'Normal'} ${e.reason ?? ''}${count}: ${e.message ?? ''}`.trim();
}

/** Annotate an ExternalSecret with `force-sync=<epoch ms>`: any annotation change triggers a reconcile. */
export async function annotateForceSync(
  kube: KubeClients,
  namespace: string,
  name: string,
  value = String(Date.now()),
): Promise<string> {
  await kube.objects.patch(
    {
      apiVersion: ESO_API_VERSION,
      kind: 'ExternalSecret',
      metadata: { name, namespace, annotations: { 'force-sync': value } },
    },
    undefined,
    undefined,
    FIELD_MANAGER,
    undefined,
    PatchStrategy.MergePatch,
  );
  return value;
}
