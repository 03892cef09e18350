/**
 * Why did a Secret not follow Vault? A pure function from collected evidence to one line. Rules are ordered from
 * the most fundamental cause (Vault down) to the most benign (the refresh interval simply has not elapsed).
 */
import type { Condition } from '../kube/external-secrets.ts';
import { formatMs } from '../errors.ts';

export interface DiagnosisEvidence {
  /** When the assertion gave up (ms since epoch). */
  now: number;
  vault: {
    address: string;
    /** Undefined when /sys/health could not be reached. */
    health?: { sealed: boolean; initialized: boolean };
    unreachableError?: string;
  };
  externalSecret?: {
    name: string;
    exists: boolean;
    ready?: Condition;
    refreshIntervalMs?: number;
    refreshPolicy?: string;
    /** status.refreshTime in ms. */
    refreshTime?: number;
    /** remoteRef keys the ES reads. */
    remoteKeys?: string[];
  };
  store?: {
    kind: string;
    name: string;
    exists: boolean;
    ready?: Condition;
    /** provider.vault.version ("v1"/"v2") and path (mount). */
    kvVersion?: string;
    mount?: string;
  };
  /** Messages of recent Events for the ES (reason: message). */
  events: string[];
  /** Tail of ESO's log (redacted). */
  esoLog: string;
  /** Latest Vault ack among the involved paths. */
  ackAt?: number;
  /** Paths the assertion expected and whether Vault (admin token) has them. */
  paths: { path: string; existsInVault?: boolean }[];
  /** Reading the path with the store's role (login as its ServiceAccount). */
  roleRead?: { outcome: 'ok' | 'denied' | 'not-found' | 'login-failed' | 'error'; message?: string };
  /** Whether any Secret event was seen at all, and whether the Secret exists. */
  secretExists: boolean;
}

const PERMISSION = /permission denied|\b403\b|Code: 403/i;
const NOT_FOUND =
  /secret does not exist|no secret (?:data )?found|cannot find secret data|key .* (?:does not exist|not found)|\b404\b|could not get secret data from provider.*not found/i;
const SEALED = /Vault is sealed|\bsealed\b/i;
const UNREACHABLE =
  /connection refused|no such host|i\/o timeout|dial tcp|ECONNREFUSED|context deadline exceeded/i;

function texts(ev: DiagnosisEvidence): string[] {
  return [
    ev.externalSecret?.ready?.message ?? '',
    ev.store?.ready?.message ?? '',
    ...ev.events,
    ...ev.esoLog.split('\n').slice(-60),
  ].filter(Boolean);
}

function at(ms: number): string {
  return new Date(ms).toISOString();
}

export function diagnose(ev: DiagnosisEvidence): string {
  const es = ev.externalSecret;
  const store = ev.store;
  const all = texts(ev);
  const any = (re: RegExp): string | undefined => all.find((t) => re.test(t));
  const paths = ev.paths.map((p) => p.path).join(', ');

  // 1. Vault itself.
  if (!ev.vault.health)
    return `Vault unreachable at ${ev.vault.address}${ev.vault.unreachableError ? ` (${ev.vault.unreachableError})` : ''}: ESO cannot read, the Secret keeps its old value`;
  if (ev.vault.health.sealed)
    return 'Vault is sealed: every read fails until it is unsealed (ESO keeps the old Secret and backs off)';

  // 2. Objects that must exist.
  if (es && !es.exists) return `ExternalSecret ${es.name} does not exist`;
  if (store && !store.exists)
    return `${store.kind} ${store.name} does not exist: the ExternalSecret has no store to read from`;

  // 3. Permission denied: Vault's own answer first, then what ESO reported.
  if (ev.roleRead?.outcome === 'denied')
    return `permission denied: the store's Vault role cannot read ${paths} (policy lacks read on ${storeDataPath(store, ev)})`;
  const denied = any(PERMISSION);
  if (denied) {
    if (store?.ready?.status === 'False' && PERMISSION.test(store.ready.message ?? ''))
      return `permission denied at login: ${store.kind} ${store.name} cannot authenticate to Vault (role binding, ServiceAccount or TokenReview/auth-delegator)`;
    return `permission denied: Vault refused ESO's read of ${paths || 'the path'} (check the role's policies)`;
  }
  if (ev.roleRead?.outcome === 'login-failed')
    return `Vault login failed for the store's role${ev.roleRead.message ? ` (${ev.roleRead.message})` : ''}: ESO cannot authenticate`;

  // 4. Store not ready.
  if (store?.ready && store.ready.status !== 'True')
    return `${store.kind} ${store.name} not ready: ${store.ready.reason ?? ''}${store.ready.message ? ` ${store.ready.message}` : ''}`.trim();
  if (
    store &&
    !store.ready &&
    es?.ready?.reason === 'SecretSyncedError' &&
    /store/i.test(es.ready.message ?? '')
  )
    return `${store.kind} ${store.name} not ready: ${es.ready.message ?? ''}`.trim();

  // 5. Wrong path or KV version.
  if (store?.kvVersion === 'v1' && (store.mount ?? '') !== '')
    return `wrong KV version: ${store.kind} ${store.name} uses version v1 but ${store.mount}/ is a KV v2 mount`;
  const missing = ev.paths.find((p) => p.existsInVault === false);
  if (missing) return `wrong path: ${missing.path} does not exist in Vault`;
  if (es?.remoteKeys?.length && ev.paths.length) {
    const wanted = new Set(ev.paths.map((p) => normalize(p.path)));
    const reads = es.remoteKeys.map(normalize);
    if (!reads.some((k) => wanted.has(k)))
      return `wrong path: ExternalSecret ${es.name} reads ${es.remoteKeys.join(', ')}, the scenario wrote ${paths}`;
  }
  const notFound = any(NOT_FOUND);
  if (notFound || ev.roleRead?.outcome === 'not-found')
    return `wrong path or KV version: ESO's read of ${paths || 'the path'} finds no data${notFound ? ` (${clip(notFound)})` : ''}`;

  // 6. Outage symptoms in ESO's own words.
  const sealed = any(SEALED);
  if (sealed) return `Vault was sealed when ESO last tried (${clip(sealed)}); ESO backs off before retrying`;
  const unreachable = any(UNREACHABLE);
  if (unreachable && es?.ready?.status === 'False')
    return `ESO could not reach Vault (${clip(unreachable)}) and is backing off before retrying`;

  // 7. ESO is failing for another reason: error backoff.
  if (es?.ready?.status === 'False')
    return `ESO error backoff: ${es.ready.reason ?? 'not ready'}${es.ready.message ? ` — ${clip(es.ready.message)}` : ''} (retries back off from 1 s up to ~7 min)`;

  // 8. Refresh semantics.
  if (es) {
    if (es.refreshIntervalMs === 0) return 'refreshInterval is 0: ESO syncs once and never again';
    if (es.refreshPolicy === 'CreatedOnce')
      return 'refreshPolicy CreatedOnce: ESO never updates the Secret after creating it';
    if (es.refreshTime !== undefined && es.refreshIntervalMs !== undefined && ev.ackAt !== undefined) {
      const next = es.refreshTime + es.refreshIntervalMs;
      if (es.refreshTime < ev.ackAt && next > ev.now)
        return `refresh interval not yet elapsed: last refresh ${at(es.refreshTime)}, next due ${at(next)} (${formatMs(next - ev.ackAt)} after the write)`;
      if (es.refreshTime >= ev.ackAt)
        return `ESO refreshed at ${at(es.refreshTime)}, after the write, but the Secret does not hold the expected value (check remoteRef key/property and the target's keys)`;
      if (next <= ev.now)
        return `ESO is late: next refresh was due ${at(next)} but status.refreshTime is still ${at(es.refreshTime)} (is the controller running? see its log)`;
    }
    if (!es.ready)
      return `ExternalSecret ${es.name} has no Ready condition: ESO has not reconciled it (is the controller running and watching this namespace?)`;
  }
  if (!ev.secretExists) return 'the target Secret was never created';
  return 'no known cause found: see the evidence';
}

function normalize(p: string): string {
  return p.replace(/^\/+|\/+$/g, '').replace(/^secret\/(?:data\/)?/, '');
}

function storeDataPath(store: DiagnosisEvidence['store'], ev: DiagnosisEvidence): string {
  const mount = store?.mount ?? 'secret';
  return ev.paths.map((p) => `${mount}/data/${normalize(p.path)}`).join(', ') || `${mount}/data/...`;
}

function clip(s: string, n = 160): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > n ? `${one.slice(0, n - 1)}…` : one;
}
