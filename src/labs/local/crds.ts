/**
 * Apply ESO's CRD bundle and the controller's identity (namespace, ServiceAccount and the chart's RBAC) by
 * server-side apply straight to the API server — every object at once (client-side apply would overflow the
 * last-applied annotation on the largest CRDs) — then wait until every CRD is Established. No kubectl process, no
 * discovery round trips: this is on the lab's start-up path.
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { LabError } from '../../errors.ts';
import { waitFor } from '../../time.ts';
import { httpCall } from '../http-call.ts';

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

/** The REST path of a (cluster-scoped or namespaced) object of the kinds these manifests hold. */
export function objectPath(o: Obj): string {
  const plural: Record<string, string> = {
    CustomResourceDefinition: 'customresourcedefinitions',
    Namespace: 'namespaces',
    ServiceAccount: 'serviceaccounts',
    ClusterRole: 'clusterroles',
    ClusterRoleBinding: 'clusterrolebindings',
    Role: 'roles',
    RoleBinding: 'rolebindings',
  };
  const p = plural[o.kind];
  if (!p) throw new LabError('E_MANIFEST', `cannot apply a ${o.kind} here (only ESO's CRDs and RBAC)`);
  const base = o.apiVersion.includes('/') ? `/apis/${o.apiVersion}` : `/api/${o.apiVersion}`;
  const ns = o.metadata.namespace ? `/namespaces/${o.metadata.namespace}` : '';
  return `${base}${ns}/${p}/${o.metadata.name}`;
}

function load(file: string): Obj[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJSON() as Obj | null)
    .filter((o): o is Obj => !!o && typeof o === 'object' && !!o.kind);
}

export async function applyEsoManifests(o: {
  server: string;
  caPem: string;
  token: string;
  crds: string;
  rbac: string;
  signal: AbortSignal;
  timeoutMs: number;
}): Promise<void> {
  const crds = load(o.crds);
  const rbac = load(o.rbac);
  const call = (method: string, path: string, body?: string, contentType?: string) =>
    httpCall(`${o.server}${path}`, {
      method,
      ca: o.caPem,
      headers: {
        authorization: `Bearer ${o.token}`,
        ...(contentType ? { 'content-type': contentType } : {}),
      },
      ...(body !== undefined ? { body } : {}),
      timeoutMs: o.timeoutMs,
      signal: o.signal,
    });
  const apply = async (obj: Obj) => {
    const r = await call(
      'PATCH',
      `${objectPath(obj)}?fieldManager=vault-eso-lab&force=true`,
      JSON.stringify(obj),
      'application/apply-patch+yaml',
    );
    if (r.status !== 200 && r.status !== 201)
      throw new LabError(
        'E_CRDS',
        `applying ${obj.kind} ${obj.metadata.name}: HTTP ${r.status} ${r.body.slice(0, 300)}`,
      );
  };
  // The namespace first (its ServiceAccount and Role need it); everything else at once.
  const namespaces = rbac.filter((x) => x.kind === 'Namespace');
  await Promise.all(namespaces.map(apply));
  await Promise.all([...crds, ...rbac.filter((x) => x.kind !== 'Namespace')].map(apply));
  const names = new Set(crds.map((c) => c.metadata.name));
  await waitFor(
    async () => {
      const r = await call('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions');
      if (r.status !== 200) return { done: false, seen: `HTTP ${r.status}` };
      const list = JSON.parse(r.body) as {
        items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[];
      };
      const pending = [...names].filter(
        (n) =>
          !list.items
            .find((i) => i.metadata.name === n)
            ?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'),
      );
      return pending.length === 0
        ? { done: true, value: undefined }
        : {
            done: false,
            seen: `not Established yet: ${pending.slice(0, 3).join(', ')}${pending.length > 3 ? ', …' : ''}`,
          };
    },
    { what: "ESO's CRDs to be Established", timeoutMs: o.timeoutMs, intervalMs: 50, signal: o.signal },
  );
}
