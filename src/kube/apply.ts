/**
 * Server-side apply and delete of multi-document YAML, with field manager `vault-eso-lab`. Namespaces are waited
 * for until Active; a kind the API server does not know is reported as a missing CRD (ESO's, when it is one).
 */
import { PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { LabError, errorMessage } from '../errors.ts';
import { waitFor } from '../time.ts';
import { isNotFound, kubeErrorMessage, statusOf, type KubeClients } from './client.ts';

export const FIELD_MANAGER = 'vault-eso-lab';

export function describeObject(o: KubernetesObject): string {
  const ns = o.metadata?.namespace ? `${o.metadata.namespace}/` : '';
  return `${o.kind ?? '?'} ${ns}${o.metadata?.name ?? '?'}`;
}

/** Parse multi-document YAML into objects; `kind: List` documents and arrays are flattened; empty docs skipped. */
export function parseManifests(text: string, source = 'manifest'): KubernetesObject[] {
  const out: KubernetesObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) {
      const err = doc.errors[0];
      const where = err?.linePos?.[0] ? `:${err.linePos[0].line}` : '';
      throw new LabError('E_MANIFEST', `${source}${where}: ${err?.message ?? 'invalid YAML'}`);
    }
    collectObjects(doc.toJS() as unknown, out, source);
  }
  return out;
}

/** Flatten an inline manifest value (an object, a `List`, or an array of them). */
export function collectObjects(
  value: unknown,
  out: KubernetesObject[] = [],
  source = 'manifest',
): KubernetesObject[] {
  if (value === null || value === undefined) return out;
  if (Array.isArray(value)) {
    for (const v of value) collectObjects(v, out, source);
    return out;
  }
  if (typeof value !== 'object') throw new LabError('E_MANIFEST', `${source}: expected a Kubernetes object`);
  const o = value as KubernetesObject & { items?: unknown[] };
  if (o.kind === 'List' && Array.isArray(o.items)) return collectObjects(o.items, out, source);
  if (!o.kind || !o.apiVersion || !o.metadata?.name)
    throw new LabError('E_MANIFEST', `${source}: every object needs apiVersion, kind and metadata.name`);
  out.push(o);
  return out;
}

function isEsoKind(o: KubernetesObject): boolean {
  return (o.apiVersion ?? '').includes('external-secrets.io');
}

function wrapApplyError(o: KubernetesObject, e: unknown): LabError {
  const msg = kubeErrorMessage(e);
  const unknownKind =
    /Unrecognized API version and kind|the server could not find the requested resource|no matches for kind/i.test(
      msg,
    );
  if (unknownKind || (statusOf(e) === 404 && isEsoKind(o))) {
    if (isEsoKind(o))
      return new LabError(
        'E_CRD_MISSING',
        `cannot apply ${describeObject(o)}: ESO's CRDs are not installed`,
        {
          cause: e,
          hint: `the API server does not serve ${o.apiVersion} ${o.kind}; install External Secrets Operator's CRDs (deploy/crds/bundle.yaml, server-side) or use a lab that has them`,
        },
      );
    return new LabError(
      'E_CRD_MISSING',
      `cannot apply ${describeObject(o)}: the API server does not serve ${o.apiVersion} ${o.kind}`,
      { cause: e },
    );
  }
  return new LabError('E_APPLY', `cannot apply ${describeObject(o)}: ${msg}`, { cause: e });
}

/** Server-side apply one object (force: the lab owns these fields). */
export async function applyObject(kube: KubeClients, o: KubernetesObject): Promise<KubernetesObject> {
  try {
    return await kube.objects.patch(
      o,
      undefined,
      undefined,
      FIELD_MANAGER,
      true,
      PatchStrategy.ServerSideApply,
    );
  } catch (e) {
    throw wrapApplyError(o, e);
  }
}

export async function waitNamespaceActive(
  kube: KubeClients,
  name: string,
  signal: AbortSignal,
  timeoutMs = 30_000,
): Promise<void> {
  await waitFor(
    async () => {
      const ns = await kube.core.readNamespace({ name });
      const phase = ns.status?.phase ?? 'unknown';
      return phase === 'Active' ? { done: true, value: undefined } : { done: false, seen: `phase ${phase}` };
    },
    { what: `namespace ${name} to be Active`, timeoutMs, intervalMs: 200, signal },
  );
}

/** Apply objects in order; namespaces are awaited until Active before the objects after them. */
export async function applyObjects(
  kube: KubeClients,
  objects: KubernetesObject[],
  signal: AbortSignal,
  onApplied?: (o: KubernetesObject) => void,
): Promise<KubernetesObject[]> {
  const applied: KubernetesObject[] = [];
  for (const o of objects) {
    if (signal.aborted) break;
    const result = await applyObject(kube, o);
    applied.push(result);
    onApplied?.(o);
    if (o.kind === 'Namespace' && o.apiVersion === 'v1' && o.metadata?.name)
      await waitNamespaceActive(kube, o.metadata.name, signal);
  }
  return applied;
}

/**
 * Delete one object; absent is fine. Background propagation (kubectl's default): the object goes at once and
 * the garbage collector then deletes what it owns — the path owner-gc observes (an ExternalSecret deleted, its
 * Secret collected afterwards). Foreground would hold the owner until its dependents are gone.
 */
export async function deleteObject(kube: KubeClients, o: KubernetesObject): Promise<'deleted' | 'absent'> {
  try {
    await kube.objects.delete(o, undefined, undefined, undefined, undefined, 'Background');
    return 'deleted';
  } catch (e) {
    if (isNotFound(e) || /Unrecognized API version and kind/.test(errorMessage(e))) return 'absent';
    throw new LabError('E_DELETE', `cannot delete ${describeObject(o)}: ${kubeErrorMessage(e)}`, {
      cause: e,
    });
  }
}

/** Wait until an object is gone (namespaces take a while: the namespace controller empties them first). */
export async function waitGone(
  kube: KubeClients,
  o: KubernetesObject,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<void> {
  const header = {
    apiVersion: o.apiVersion ?? 'v1',
    kind: o.kind ?? '',
    metadata: {
      name: o.metadata?.name ?? '',
      ...(o.metadata?.namespace ? { namespace: o.metadata.namespace } : {}),
    },
  };
  await waitFor(
    async () => {
      try {
        await kube.objects.read(header);
        return { done: false, seen: 'still present' };
      } catch (e) {
        if (isNotFound(e)) return { done: true, value: undefined };
        throw e;
      }
    },
    { what: `${describeObject(o)} to be deleted`, timeoutMs, intervalMs: 250, signal },
  );
}
