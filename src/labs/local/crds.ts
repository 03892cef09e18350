/**
 * Apply ESO's CRD bundle and the controller's identity (namespace, ServiceAccount and the chart's RBAC) by
 * server-side apply straight to the API server — every object at once (client-side apply would overflow the
 * last-applied annotation on the largest CRDs) — then wait until every CRD is Established (its resource served in
 * discovery). No kubectl process: this is on the lab's start-up path.
 */
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { LabError, WaitTimeoutError } from '../../errors.ts';
import { waitFor } from '../../time.ts';
import { httpCall, waitForOk } from '../http-call.ts';
import { componentDir } from '../../components/cache.ts';
import { components } from '../../components/versions.ts';

/** ESO's CRD bundle in the component cache (the chart's `crds.yaml`, with its JSON copy beside it). */
export function esoCrdsFile(env: NodeJS.ProcessEnv): string {
  return `${componentDir(components.eso, env)}/crds.yaml`;
}

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

interface CrdObj extends Obj {
  spec?: { group: string; names: { plural: string }; versions?: { name: string; served: boolean }[] };
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

/** An API server answer that means "not yet" during its start, rather than a wrong object. */
export function notReadyYet(status: number, body: string): boolean {
  return status === 429 || status >= 500 || (status === 403 && /not yet ready to handle request/.test(body));
}

/**
 * Resolve once the API server serves the CRD API to the admin (system:masters: no RBAC needed) — about 1.5 s before
 * its /readyz, which also waits for post-start hooks (RBAC bootstrap roles, priority classes) that ESO's CRDs do
 * not need.
 */
export async function waitForCrdApi(o: {
  server: string;
  caPem: string;
  token: string;
  signal: AbortSignal;
  timeoutMs: number;
}): Promise<void> {
  await waitForOk(`${o.server}/apis/apiextensions.k8s.io/v1/customresourcedefinitions?limit=1`, {
    ...o,
    ca: o.caPem,
    what: 'the API server to serve the CRD API',
  });
}

function parseYaml(text: string): Obj[] {
  return parseAllDocuments(text)
    .map((d) => d.toJSON() as Obj | null)
    .filter((o): o is Obj => !!o && typeof o === 'object' && !!o.kind);
}

/**
 * The objects of a manifest file. ESO's CRD bundle is 1.6 MB of YAML that takes ≈1 s to parse, on the lab's
 * start-up path: its JSON form is kept beside it (`<file>.json`, written once, atomically) and read in ≈10 ms
 * from then on. A JSON copy older than the YAML, or unreadable, is rebuilt.
 */
export function loadManifests(file: string): Obj[] {
  const cached = `${file}.json`;
  try {
    if (statSync(cached).mtimeMs >= statSync(file).mtimeMs) {
      const objs = JSON.parse(readFileSync(cached, 'utf8')) as unknown;
      if (Array.isArray(objs) && objs.every((o: Obj) => o && typeof o.kind === 'string'))
        return objs as Obj[];
    }
  } catch {
    /* no usable copy: parse the YAML */
  }
  const objs = parseYaml(readFileSync(file, 'utf8'));
  try {
    const tmp = `${cached}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(objs), { mode: 0o644 });
    renameSync(tmp, cached);
  } catch {
    /* a read-only cache: parse every time */
  }
  return objs;
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
  // The CRD bundle (in the component cache) through its JSON copy; the RBAC file (in the repository) is small.
  const crds = loadManifests(o.crds);
  const rbac = parseYaml(readFileSync(o.rbac, 'utf8'));
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
  // The API server takes these before its /readyz (its post-start hooks still run): an answer that says it is not
  // ready yet (429, 5xx, an admission plugin "not yet ready to handle request"), or a reset connection, is tried
  // again until the deadline; any other answer is the object's fault and fails at once.
  const apply = async (obj: Obj) => {
    const what = `applying ${obj.kind} ${obj.metadata.name}`;
    let refused: string | undefined;
    try {
      refused = await waitFor(
        async () => {
          const r = await call(
            'PATCH',
            `${objectPath(obj)}?fieldManager=vault-eso-lab&force=true`,
            JSON.stringify(obj),
            'application/apply-patch+yaml',
          );
          if (r.status === 200 || r.status === 201) return { done: true, value: undefined };
          const answer = `HTTP ${r.status} ${r.body.slice(0, 300)}`;
          return notReadyYet(r.status, r.body)
            ? { done: false, seen: answer }
            : { done: true, value: answer };
        },
        { what, timeoutMs: o.timeoutMs, intervalMs: 100, signal: o.signal },
      );
    } catch (e) {
      if (e instanceof WaitTimeoutError)
        throw new LabError('E_CRDS', `${what}: ${e.lastSeen ?? 'no answer'}`);
      throw e;
    }
    if (refused) throw new LabError('E_CRDS', `${what}: ${refused}`);
  };
  // The namespace first (its ServiceAccount and Role need it); everything else at once.
  const namespaces = rbac.filter((x) => x.kind === 'Namespace');
  await Promise.all(namespaces.map(apply));
  await Promise.all([...crds, ...rbac.filter((x) => x.kind !== 'Namespace')].map(apply));
  await waitForEstablished({ ...o, crds });
}

/**
 * Resolve once every served version of every CRD in the bundle is Established. Read from discovery: the API server
 * lists a CRD's resource in its group-version only once the CRD is Established — what ESO's informers need — and a
 * discovery document is a few kB where the CRD list itself is megabytes of schema to serialize and parse on every
 * poll. Before the API server serves at all, a refused connection or a "not yet" answer is tried again.
 */
export async function waitForEstablished(o: {
  server: string;
  caPem: string;
  token: string;
  crds: string | Obj[];
  signal: AbortSignal;
  timeoutMs: number;
}): Promise<void> {
  const crds = typeof o.crds === 'string' ? loadManifests(o.crds) : o.crds;
  const get = (path: string) =>
    httpCall(`${o.server}${path}`, {
      ca: o.caPem,
      headers: { authorization: `Bearer ${o.token}` },
      timeoutMs: 2000,
      signal: o.signal,
    });
  const wanted = new Map<string, Set<string>>();
  for (const c of crds as CrdObj[]) {
    if (c.kind !== 'CustomResourceDefinition') continue;
    for (const v of c.spec?.versions ?? []) {
      if (!v.served) continue;
      const gv = `${c.spec!.group}/${v.name}`;
      if (!wanted.has(gv)) wanted.set(gv, new Set());
      wanted.get(gv)!.add(c.spec!.names.plural);
    }
  }
  await waitFor(
    async () => {
      const pending: string[] = [];
      await Promise.all(
        [...wanted].map(async ([gv, plurals]) => {
          const r = await get(`/apis/${gv}`);
          const served =
            r.status === 200
              ? new Set(
                  (JSON.parse(r.body) as { resources?: { name: string }[] }).resources?.map((x) => x.name),
                )
              : new Set<string>();
          for (const p of plurals) if (!served.has(p)) pending.push(`${p}.${gv.split('/')[0]}`);
        }),
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
