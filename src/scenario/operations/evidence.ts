/**
 * Best-effort evidence for a failed assertion: what the watcher last saw, ESO's conditions and Events, the tail of
 * its log (redacted), and Vault's own answer (health, the path as admin, the path as the store's role). Every probe
 * is bounded in time and its failure becomes an evidence line rather than an error.
 */
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
import type { DiagnosisEvidence } from '../diagnosis.ts';
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

export function remoteKeys(es: EsoObject | undefined): string[] {
  const spec = es?.spec as
    { data?: { remoteRef?: { key?: string } }[]; dataFrom?: { extract?: { key?: string } }[] } | undefined;
  const keys = [
    ...(spec?.data ?? []).map((d) => d.remoteRef?.key),
    ...(spec?.dataFrom ?? []).map((d) => d.extract?.key),
  ].filter((k): k is string => typeof k === 'string');
  return [...new Set(keys)];
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
    vault: { address: conn.vault.address },
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
          ...(s.version ? { kvVersion: s.version } : {}),
          ...(s.mount ? { mount: s.mount } : {}),
          ...(s.auth.role ? { role: s.auth.role } : {}),
          ...(s.auth.serviceAccount ? { serviceAccount: s.auth.serviceAccount } : {}),
        };
        lines.push(
          store
            ? `${ref.kind} ${ref.name}: ${formatCondition(sReady)}; server ${s.server ?? '-'}, path ${s.mount ?? '-'}, version ${s.version ?? 'v2 (default)'}, role ${s.auth.role ?? '-'}`
            : `${ref.kind} ${ref.name}: not found`,
        );
      }
      const evs = await bounded(
        listEventsFor(rt.kube, req.namespace, 'ExternalSecret', req.externalSecret),
        ms,
        'list events',
      );
      evidence.events = evs.slice(-8).map((e) => oneLine(formatEvent(e)));
      for (const e of evidence.events.slice(-5)) lines.push(`event ExternalSecret: ${secrets.redact(e)}`);
      if (ref && ref.kind === 'SecretStore') {
        const sevs = await bounded(
          listEventsFor(rt.kube, req.namespace, ref.kind, ref.name),
          ms,
          'list events',
        );
        const formatted = sevs.slice(-3).map((e) => oneLine(formatEvent(e)));
        evidence.events.push(...formatted);
        for (const e of formatted) lines.push(`event ${ref.kind}: ${secrets.redact(e)}`);
      }
    } catch (e) {
      lines.push(`ESO objects: could not read (${errorMessage(e)})`);
    }
  }

  // ESO's log tail: the lines about this ExternalSecret and its store since the ExternalSecret was created (the
  // same names recur across scenarios), one line each without stack traces.
  try {
    const tail = secrets.redact(await bounded(rt.lab.esoLogTail(80), ms, 'ESO log'));
    const objects = [
      ...(req.externalSecret ? [`${req.namespace}/${req.externalSecret}`] : []),
      ...(evidence.store ? [`${req.namespace}/${evidence.store.name}`, evidence.store.name] : []),
    ];
    const created = es?.metadata?.creationTimestamp
      ? new Date(es.metadata.creationTimestamp as unknown as string).getTime()
      : undefined;
    const relevant = relevantEsoLines(tail, objects, created).map((l) => formatEsoLogLine(l, 1_000));
    evidence.esoLog = relevant.join('\n');
    for (const l of relevant.slice(-4)) lines.push(`eso log: ${l.length > 300 ? `${l.slice(0, 299)}…` : l}`);
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
    for (const p of evidence.paths) {
      try {
        const r = await rt.vault.kvGet(p.path, { signal: req.signal });
        for (const v of Object.values(r?.data ?? {})) secrets.add(String(v));
        p.existsInVault = r !== undefined;
        lines.push(
          r
            ? `vault (admin): ${p.path} version ${r.version}, keys ${Object.keys(r.data).join(', ')}`
            : `vault (admin): ${p.path} not found`,
        );
      } catch (e) {
        lines.push(`vault (admin): ${p.path}: ${errorMessage(e)}`);
      }
    }
    for (const p of evidence.remotePaths ?? []) {
      try {
        p.existsInVault = (await rt.vault.kvGet(p.path, { signal: req.signal })) !== undefined;
        lines.push(
          `vault (admin): ${p.path} (read by the ExternalSecret) ${p.existsInVault ? 'exists' : 'not found'}`,
        );
      } catch (e) {
        lines.push(`vault (admin): ${p.path}: ${errorMessage(e)}`);
      }
    }
    const auth = storeVaultSettings(store).auth;
    if (auth.role && auth.serviceAccount && evidence.paths[0]) {
      const roleRead = await readAsRole(rt, req.namespace, auth, evidence.paths[0].path, req.signal, ms);
      evidence.roleRead = roleRead;
      lines.push(
        `vault (role ${auth.role}): read ${evidence.paths[0].path} → ${roleRead.outcome}${roleRead.message ? ` (${oneLine(roleRead.message)})` : ''}`,
      );
    }
  }
  return { evidence, lines: lines.map((l) => secrets.redact(l)) };
}

/** Log in as the store's ServiceAccount (TokenRequest → Vault Kubernetes login) and read the path. */
async function readAsRole(
  rt: ScenarioRuntime,
  namespace: string,
  auth: VaultAuthRef,
  path: string,
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
    const r = await rt.vault.withToken(token).kvGet(path, { signal });
    for (const v of Object.values(r?.data ?? {})) secrets.add(String(v));
    return r ? { outcome: 'ok' } : { outcome: 'not-found' };
  } catch (e) {
    if (e instanceof VaultRequestError && e.permissionDenied)
      return { outcome: 'denied', message: e.message };
    return { outcome: 'error', message: errorMessage(e) };
  }
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}
