/**
 * Best-effort evidence for a failed assertion: what the watcher last saw, ESO's conditions and Events, the tail of
 * its log (redacted), and Vault's own answer (health, the path as admin, the path as the store's role). Every probe
 * is bounded in time and its failure becomes an evidence line rather than an error.
 */
import type { CoreV1Event } from '@kubernetes/client-node';
import { errorMessage, formatMs } from '../../errors.ts';
import {
  findCondition,
  formatCondition,
  formatEvent,
  listEventsFor,
  readEsoObject,
  refreshIntervalMs,
  refreshPolicy,
  storeRef,
  type EsoObject,
} from '../../kube/external-secrets.ts';
import { formatEsoLogLine, relevantEsoLines } from '../../kube/eso-log.ts';
import type { SecretWatcher } from '../../kube/secret-watcher.ts';
import { secrets } from '../../secrets/secret-registry.ts';
import { VaultRequestError } from '../../vault/client.ts';
import { kvRead, readMount } from '../../vault/kv-engine.ts';
import {
  clip,
  type DiagnosisEvidence,
  type RemoteRefEvidence,
  type VaultReadEvidence,
} from '../diagnosis.ts';
import { esoReadPath } from '../eso-read-path.ts';
import type { ScenarioRuntime } from '../runtime.ts';

export interface EvidenceRequest {
  namespace: string;
  externalSecret?: string;
  watcher?: SecretWatcher;
  paths: string[];
  ackAt?: number;
  signal: AbortSignal;
  probeTimeoutMs?: number;
}

async function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer within ${formatMs(ms)}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

interface VaultAuthRef {
  role?: string;
  mountPath?: string;
  serviceAccount?: string;
}

export function storeVaultSettings(store: EsoObject | undefined): {
  version?: string;
  mount?: string;
  server?: string;
  auth: VaultAuthRef;
} {
  const vault = (store?.spec?.provider as { vault?: Record<string, unknown> } | undefined)?.vault;
  const k8s = (vault?.auth as { kubernetes?: Record<string, unknown> } | undefined)?.kubernetes;
  const sa = k8s?.serviceAccountRef as { name?: string } | undefined;
  return {
    ...(typeof vault?.version === 'string' ? { version: vault.version } : {}),
    ...(typeof vault?.path === 'string' ? { mount: vault.path } : {}),
    ...(typeof vault?.server === 'string' ? { server: vault.server } : {}),
    auth: {
      ...(typeof k8s?.role === 'string' ? { role: k8s.role } : {}),
      ...(typeof k8s?.mountPath === 'string' ? { mountPath: k8s.mountPath } : {}),
      ...(sa?.name ? { serviceAccount: sa.name } : {}),
    },
  };
}

/** Each remoteRef (and dataFrom extract) the ExternalSecret reads: key and property. */
export function remoteRefs(es: EsoObject | undefined): RemoteRefEvidence[] {
  const spec = es?.spec as
    | {
        data?: { remoteRef?: { key?: string; property?: string } }[];
        dataFrom?: { extract?: { key?: string; property?: string } }[];
      }
    | undefined;
  return [...(spec?.data ?? []).map((d) => d.remoteRef), ...(spec?.dataFrom ?? []).map((d) => d.extract)]
    .filter((r): r is { key: string; property?: string } => typeof r?.key === 'string')
    .map((r) => ({ key: r.key, ...(typeof r.property === 'string' ? { property: r.property } : {}) }));
}

export function remoteKeys(es: EsoObject | undefined): string[] {
  return [...new Set(remoteRefs(es).map((r) => r.key))];
}

/** Register every leaf value of a secret's data (JSON objects included) for redaction. */
function registerValues(data: Record<string, unknown> | undefined): void {
  for (const v of Object.values(data ?? {})) {
    if (v !== null && typeof v === 'object') registerValues(v as Record<string, unknown>);
    else if (v !== undefined && v !== null) secrets.add(String(v));
  }
}

/** Key names of a secret and of its nested JSON objects (`db` → host, port) — never values. */
export function keyShape(data: Record<string, unknown>): Pick<VaultReadEvidence, 'keys' | 'nested'> {
  const nested: Record<string, string[]> = {};
  const walk = (o: Record<string, unknown>, prefix: string, depth: number) => {
    for (const [k, v] of Object.entries(o))
      if (v !== null && typeof v === 'object' && !Array.isArray(v) && depth < 4) {
        const path = prefix ? `${prefix}.${k}` : k;
        nested[path] = Object.keys(v);
        walk(v as Record<string, unknown>, path, depth + 1);
      }
  };
  walk(data, '', 0);
  for (const k of Object.keys(nested)) nested[k]?.sort();
  return { keys: Object.keys(data).sort(), ...(Object.keys(nested).length ? { nested } : {}) };
}

export async function gatherEvidence(
  rt: ScenarioRuntime,
  req: EvidenceRequest,
): Promise<{ evidence: DiagnosisEvidence; lines: string[] }> {
  const ms = req.probeTimeoutMs ?? 4_000;
  const lines: string[] = [];
  const conn = rt.lab.connection;
  const evidence: DiagnosisEvidence = {
    now: Date.now(),
    vault: { address: conn.vault.address, serverForEso: conn.vault.serverUrlForEso },
    events: [],
    esoLog: '',
    paths: req.paths.map((path) => ({ path })),
    secretExists: req.watcher?.latest()?.exists ?? false,
    ...(req.ackAt ? { ackAt: req.ackAt } : {}),
  };

  if (req.watcher) lines.push(req.watcher.describeLatest(), req.watcher.describeStats());

  // ExternalSecret and its store.
  let es: EsoObject | undefined;
  let store: EsoObject | undefined;
  if (req.externalSecret) {
    try {
      es = await bounded(
        readEsoObject(rt.kube, 'ExternalSecret', req.externalSecret, req.namespace),
        ms,
        'read ExternalSecret',
      );
      const ready = findCondition(es);
      const refresh = es?.status?.refreshTime ? Date.parse(es.status.refreshTime) : undefined;
      const interval = refreshIntervalMs(es);
      evidence.externalSecret = {
        name: req.externalSecret,
        exists: es !== undefined,
        ...(ready ? { ready } : {}),
        ...(interval !== undefined ? { refreshIntervalMs: interval } : {}),
        refreshPolicy: refreshPolicy(es),
        ...(refresh !== undefined && !Number.isNaN(refresh) ? { refreshTime: refresh } : {}),
        remoteKeys: remoteKeys(es),
        refs: remoteRefs(es),
      };
      // An assertion about conditions names no paths: use what the ExternalSecret reads.
      if (evidence.paths.length === 0) evidence.paths = remoteKeys(es).map((path) => ({ path }));
      else
        evidence.remotePaths = remoteKeys(es)
          .filter((k) => !req.paths.includes(k))
          .map((path) => ({ path }));
      lines.push(
        es
          ? `ExternalSecret ${req.namespace}/${req.externalSecret}: ${formatCondition(ready)}; refreshTime ${es.status?.refreshTime ?? '-'}; refreshInterval ${String(es.spec?.refreshInterval ?? '1h (default)')}; reads ${remoteKeys(es).join(', ') || '-'}`
          : `ExternalSecret ${req.namespace}/${req.externalSecret}: not found`,
      );
      const ref = storeRef(es);
      if (ref) {
        store = await bounded(
          readEsoObject(rt.kube, ref.kind, ref.name, req.namespace),
          ms,
          `read ${ref.kind}`,
        );
        const sReady = findCondition(store);
        const s = storeVaultSettings(store);
        evidence.store = {
          kind: ref.kind,
          name: ref.name,
          exists: store !== undefined,
          ...(sReady ? { ready: sReady } : {}),
          ...(s.version ? { version: s.version } : {}),
          ...(s.mount ? { mount: s.mount } : {}),
          ...(s.server ? { server: s.server } : {}),
          ...(s.auth.role ? { role: s.auth.role } : {}),
          ...(s.auth.serviceAccount ? { serviceAccount: s.auth.serviceAccount } : {}),
        };
        lines.push(
          store
            ? `${ref.kind} ${ref.name}: ${formatCondition(sReady)}; server ${s.server ?? '-'}, path ${s.mount ?? '-'}, version ${s.version ?? 'v2 (default)'}, role ${s.auth.role ?? '-'}`
            : `${ref.kind} ${ref.name}: not found`,
        );
      }
      // The ExternalSecret's and its store's Events on one timeline, oldest first: the newest complaint decides.
      const evs = (
        await bounded(
          listEventsFor(rt.kube, req.namespace, 'ExternalSecret', req.externalSecret),
          ms,
          'list events',
        )
      )
        .slice(-8)
        .map((e) => ({ who: 'ExternalSecret', at: eventTime(e), text: oneLine(formatEvent(e)) }));
      if (ref && ref.kind === 'SecretStore') {
        const sevs = await bounded(
          listEventsFor(rt.kube, req.namespace, ref.kind, ref.name),
          ms,
          'list events',
        );
        evs.push(
          ...sevs.slice(-4).map((e) => ({ who: ref.kind, at: eventTime(e), text: oneLine(formatEvent(e)) })),
        );
      }
      evs.sort((a, b) => a.at - b.at);
      evidence.events = evs.map((e) => e.text);
      for (const e of evs.slice(-6)) lines.push(`event ${e.who}: ${secrets.redact(e.text)}`);
    } catch (e) {
      lines.push(`ESO objects: could not read (${errorMessage(e)})`);
    }
  }

  // ESO's log tail: the lines about this ExternalSecret and its store since the ExternalSecret was created (the
  // same names recur across scenarios), one line each without stack traces.
  try {
    const tail = secrets.redact(await bounded(rt.lab.esoLogTail(400), ms, 'ESO log'));
    const objects = [
      ...(req.externalSecret ? [`${req.namespace}/${req.externalSecret}`] : []),
      ...(evidence.store ? [`${req.namespace}/${evidence.store.name}`, evidence.store.name] : []),
    ];
    const created = es?.metadata?.creationTimestamp
      ? new Date(es.metadata.creationTimestamp as unknown as string).getTime()
      : undefined;
    const relevant = relevantEsoLines(tail, objects, created)
      .filter((l) => l.level !== 'debug')
      .slice(-80)
      .map((l) => formatEsoLogLine(l, 10_000));
    evidence.esoLog = relevant.join('\n');
    for (const l of relevant.slice(-4)) lines.push(`eso log: ${clip(l, 300)}`);
  } catch (e) {
    lines.push(`eso log: unavailable (${errorMessage(e)})`);
  }

  // Vault's own answer.
  try {
    const h = await rt.vault.health(req.signal);
    evidence.vault.health = { sealed: h.sealed, initialized: h.initialized };
    lines.push(
      `vault ${conn.vault.address}: ${h.sealed ? 'SEALED' : 'unsealed'}, ${h.initialized ? 'initialized' : 'not initialized'}${h.version ? `, ${h.version}` : ''}`,
    );
  } catch (e) {
    evidence.vault.unreachableError =
      e instanceof VaultRequestError ? (e.errors[0] ?? e.message) : errorMessage(e);
    lines.push(`vault ${conn.vault.address}: unreachable (${evidence.vault.unreachableError})`);
  }
  if (evidence.vault.health && !evidence.vault.health.sealed) {
    // The scenario's own paths on the lab's KV v2 mount. Paths taken from the ExternalSecret (an assertion that
    // names none) are read below where the store reads them, not here.
    for (const p of req.paths.length ? evidence.paths : []) {
      try {
        const r = await rt.vault.kvGet(p.path, { signal: req.signal });
        for (const v of Object.values(r?.data ?? {})) secrets.add(String(v));
        p.existsInVault = r !== undefined;
        lines.push(
          r
            ? `vault (admin): ${p.path} secret version ${r.version}, keys ${Object.keys(r.data).join(', ')}`
            : `vault (admin): ${p.path} not found`,
        );
      } catch (e) {
        lines.push(`vault (admin): ${p.path}: ${errorMessage(e)}`);
      }
    }
    for (const p of evidence.store ? [] : (evidence.remotePaths ?? [])) {
      try {
        p.existsInVault = (await rt.vault.kvGet(p.path, { signal: req.signal })) !== undefined;
        lines.push(
          `vault (admin): ${p.path} (read by the ExternalSecret) ${p.existsInVault ? 'exists' : 'not found'}`,
        );
      } catch (e) {
        lines.push(`vault (admin): ${p.path}: ${errorMessage(e)}`);
      }
    }
    // Where the store makes ESO read: its mount's real engine version, and what each remoteRef key holds there.
    const st = evidence.store;
    const refs = evidence.externalSecret?.refs ?? [];
    if (st) {
      const settings = {
        ...(st.mount ? { mount: st.mount } : {}),
        ...(st.version ? { version: st.version } : {}),
      };
      const mountPath = st.mount ?? (refs[0] ? esoReadPath(refs[0].key, settings).mount : undefined);
      if (mountPath) {
        try {
          const m = await bounded(readMount(rt.vault, mountPath, req.signal), ms, 'read sys/mounts');
          evidence.mount = {
            path: mountPath,
            exists: m !== undefined,
            ...(m ? { type: m.type } : {}),
            ...(m?.kvVersion ? { kvVersion: m.kvVersion } : {}),
          };
          lines.push(
            m
              ? `vault mount ${mountPath}/: ${m.type}${m.kvVersion ? ` version ${m.kvVersion}` : ''}`
              : `vault mount ${mountPath}/: nothing mounted`,
          );
        } catch (e) {
          lines.push(`vault mount ${mountPath}/: ${errorMessage(e)}`);
        }
      }
      const mountOk = evidence.mount?.exists !== false;
      const reads: VaultReadEvidence[] = [];
      for (const key of [...new Set(refs.map((r) => r.key))].slice(0, 4)) {
        const loc = esoReadPath(key, settings);
        if (!mountOk) break;
        try {
          const r = await bounded(kvRead(rt.vault, loc, { signal: req.signal }), ms, `read ${loc.apiPath}`);
          registerValues(r?.data);
          reads.push({ key, apiPath: loc.apiPath, exists: r !== undefined, ...(r ? keyShape(r.data) : {}) });
          lines.push(
            r
              ? `vault (admin, as the store reads it): ${loc.apiPath} keys ${Object.keys(r.data).join(', ') || '(none)'}`
              : `vault (admin, as the store reads it): ${loc.apiPath} not found`,
          );
        } catch (e) {
          lines.push(`vault (admin): ${loc.apiPath}: ${errorMessage(e)}`);
        }
      }
      if (refs.length) evidence.reads = reads;
    }
    const auth = storeVaultSettings(store).auth;
    const first = refs[0]
      ? esoReadPath(refs[0].key, {
          ...(st?.mount ? { mount: st.mount } : {}),
          ...(st?.version ? { version: st.version } : {}),
        })
      : evidence.paths[0]
        ? esoReadPath(evidence.paths[0].path, { mount: rt.vault.kvMount, version: 'v2' })
        : undefined;
    if (auth.role && auth.serviceAccount && first) {
      const roleRead = await readAsRole(rt, req.namespace, auth, first.apiPath, req.signal, ms);
      evidence.roleRead = { ...roleRead, apiPath: first.apiPath };
      lines.push(
        `vault (role ${auth.role}): read ${first.apiPath} → ${roleRead.outcome}${roleRead.message ? ` (${oneLine(roleRead.message)})` : ''}`,
      );
    }
  }
  return { evidence, lines: lines.map((l) => secrets.redact(l)) };
}

/** Log in as the store's ServiceAccount (TokenRequest → Vault Kubernetes login) and GET the API path ESO reads. */
async function readAsRole(
  rt: ScenarioRuntime,
  namespace: string,
  auth: VaultAuthRef,
  apiPath: string,
  signal: AbortSignal,
  ms: number,
): Promise<NonNullable<DiagnosisEvidence['roleRead']>> {
  let token: string;
  try {
    const tr = await bounded(
      rt.kube.core.createNamespacedServiceAccountToken({
        name: auth.serviceAccount as string,
        namespace,
        body: { spec: { audiences: [], expirationSeconds: 600 } },
      }),
      ms,
      'TokenRequest',
    );
    const jwt = tr.status?.token ?? '';
    secrets.add(jwt);
    token = await rt.vault.kubernetesLogin(auth.mountPath ?? 'kubernetes', auth.role as string, jwt, signal);
    secrets.add(token);
  } catch (e) {
    return { outcome: 'login-failed', message: errorMessage(e) };
  }
  try {
    const r = await rt.vault.request<{ data?: Record<string, unknown> | null }>('GET', apiPath, undefined, {
      token,
      signal,
      okStatuses: [404],
    });
    const data = r.body?.data ?? undefined;
    registerValues(data ?? undefined);
    return r.status === 404 || !data ? { outcome: 'not-found' } : { outcome: 'ok' };
  } catch (e) {
    if (e instanceof VaultRequestError && e.permissionDenied)
      return { outcome: 'denied', message: e.message };
    return { outcome: 'error', message: errorMessage(e) };
  }
}

function eventTime(e: CoreV1Event): number {
  const t = e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp;
  return t ? new Date(t as unknown as string).getTime() : 0;
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}
