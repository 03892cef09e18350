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
    /** Kubernetes auth role and ServiceAccount the store logs in with. */
    role?: string;
    serviceAccount?: string;
  };
  /** Messages of recent Events for the ES (reason: message). */
  events: string[];
  /** Tail of ESO's log (redacted). */
  esoLog: string;
  /** Latest Vault ack among the involved paths. */
  ackAt?: number;
  /** Paths the assertion expected and whether Vault (admin token) has them. */
  paths: { path: string; existsInVault?: boolean }[];
  /** Other paths the ExternalSecret reads (remoteRef keys) and whether Vault has them. */
  remotePaths?: { path: string; existsInVault?: boolean }[];
  /** Reading the path with the store's role (login as its ServiceAccount). */
  roleRead?: { outcome: 'ok' | 'denied' | 'not-found' | 'login-failed' | 'error'; message?: string };
  /** Whether any Secret event was seen at all, and whether the Secret exists. */
  secretExists: boolean;
}

/*
 * ESO v0.20.4's own words, as observed on the local lab (OpenBao 2.4). The ExternalSecret's condition only says
 * "could not get secret data from provider"; the cause is in its Events (`UpdateFailed`), the store's Events
 * (`InvalidProviderConfig`) and the controller log's `error` field:
 *   denied read:   "err: cannot read secret data from Vault: Error making API request. URL: GET …/v1/secret/data/my-app/config
 *                   Code: 403. Errors: * 1 error occurred: * permission denied"
 *   refused login: "unable to log in to auth method: unable to log in with Kubernetes auth: Error making API request.
 *                   URL: PUT …/v1/auth/kubernetes/login Code: 403. Errors: * service account name not authorized"
 *                  (also "Code: 400. Errors: * invalid role name \"x\"")
 *   sealed:        "… URL: PUT …/v1/auth/kubernetes/login Code: 503. Errors: * Vault is sealed"
 *   store:         "err: SecretStore \"vault-backend\" is not ready";
 *                  "err: could not get SecretStore \"x\", SecretStore.external-secrets.io \"x\" not found"
 *   missing key:   "err: cannot find secret data for key: \"nope\""
 *   Vault down:    "dial tcp 127.0.0.1:PORT: connect: connection refused"
 */
const LOGIN_REFUSED =
  /auth\/[\w/-]+\/login Code: 4\d\d|service account (?:name|namespace) not authorized|invalid role name|unable to log in with Kubernetes auth: .*(?:permission denied|403)/i;
const PERMISSION = /permission denied|Code: 403/i;
const STORE_MISSING = /could not get (?:Cluster)?SecretStore "([^"]+)".*not found/i;
const STORE_NOT_READY = /(?:Cluster)?SecretStore "([^"]+)" is not ready/i;
const NOT_FOUND =
  /secret does not exist|no secret (?:data )?found|cannot find secret data(?: for key: "[^"]*")?|key .* (?:does not exist|not found)|Code: 404/i;
const SEALED = /Vault is sealed|Code: 503/i;
const UNREACHABLE =
  /connection refused|no such host|i\/o timeout|dial tcp|ECONNREFUSED|context deadline exceeded|EOF$/i;

/** Current conditions first, then Events and log lines newest first: a transient early error must not win. */
function texts(ev: DiagnosisEvidence): string[] {
  return [
    ev.externalSecret?.ready?.message ?? '',
    ev.store?.ready?.message ?? '',
    ...[...ev.events].reverse(),
    ...ev.esoLog.split('\n').slice(-60).reverse(),
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

  // 3. Vault's own answer to the store's role.
  if (ev.roleRead?.outcome === 'denied')
    return `permission denied: the store's Vault role cannot read ${paths} (policy lacks read on ${storeDataPath(store, ev)})`;

  // ESO could not find the store (and we could not read it either: when we did, it exists now and an early
  // "not found" was only the store being applied after the ExternalSecret).
  const storeMissing = store ? undefined : any(STORE_MISSING);
  if (storeMissing)
    return `${STORE_MISSING.exec(storeMissing)?.[1] ?? 'the store'} does not exist: the ExternalSecret has no store to read from`;

  // 4. Login refused: the role is not bound to this ServiceAccount/namespace, or does not exist.
  const login = any(LOGIN_REFUSED);
  if (login || ev.roleRead?.outcome === 'login-failed') {
    const who = store?.serviceAccount ? ` as ${store.serviceAccount}` : '';
    const role = store?.role ? ` to role ${store.role}` : '';
    const words = login ? vaultWords(login) : ev.roleRead?.message;
    return `Vault refused the login${who}${role}${words ? ` (${clip(words, 120)})` : ''}: the role is not bound to this ServiceAccount and namespace, or does not exist${store ? `; ${store.kind} ${store.name} is not ready` : ''}`;
  }

  // 5. Wrong KV version or path (before ESO's "permission denied": Vault answers 403 for a path no policy covers).
  if (store?.kvVersion === 'v1' && (store.mount ?? '') !== '')
    return `wrong KV version: ${store.kind} ${store.name} uses version v1 but ${store.mount}/ is a KV v2 mount (ESO reads ${store.mount}/<path> instead of ${store.mount}/data/<path>)`;
  const missing = [...ev.paths, ...(ev.remotePaths ?? [])].find((p) => p.existsInVault === false);
  if (missing) return `wrong path: ${missing.path} does not exist in Vault`;
  if (es?.remoteKeys?.length && ev.paths.length) {
    const wanted = new Set(ev.paths.map((p) => normalize(p.path)));
    const reads = es.remoteKeys.map(normalize);
    if (!reads.some((k) => wanted.has(k)))
      return `wrong path: ExternalSecret ${es.name} reads ${es.remoteKeys.join(', ')}, the scenario wrote ${paths}`;
  }

  // 6. Vault or ESO said "permission denied".
  const denied = any(PERMISSION);
  if (denied) {
    if (store?.ready?.status === 'False' && PERMISSION.test(store.ready.message ?? ''))
      return `permission denied at login: ${store.kind} ${store.name} cannot authenticate to Vault (role binding, ServiceAccount or TokenReview/auth-delegator)`;
    return `permission denied: Vault refused ESO's read of ${paths || 'the path'} (check the role's policies)`;
  }

  // 7. Outage symptoms in ESO's own words (Vault is fine now, so ESO is waiting out its backoff).
  const sealed = any(SEALED);
  if (sealed)
    return `Vault was sealed when ESO last tried (${clip(vaultWords(sealed))}); ESO backs off before retrying`;
  const unreachable = any(UNREACHABLE);
  if (unreachable && es?.ready?.status === 'False')
    return `ESO could not reach Vault (${clip(vaultWords(unreachable))}) and is backing off before retrying`;

  // 8. Store not ready.
  if (store?.ready && store.ready.status !== 'True')
    return `${store.kind} ${store.name} not ready: ${store.ready.reason ?? ''}${store.ready.message ? ` ${store.ready.message}` : ''}`.trim();
  const storeNotReady = any(STORE_NOT_READY);
  if (storeNotReady && es?.ready?.status === 'False')
    return `${store?.kind ?? 'SecretStore'} ${STORE_NOT_READY.exec(storeNotReady)?.[1] ?? ''} was not ready when ESO last tried; ESO backs off before retrying`;
  if (
    store &&
    !store.ready &&
    es?.ready?.reason === 'SecretSyncedError' &&
    /store/i.test(es.ready.message ?? '')
  )
    return `${store.kind} ${store.name} not ready: ${es.ready.message ?? ''}`.trim();

  // 9. The path exists but ESO finds no such key.
  const notFound = any(NOT_FOUND);
  if (notFound || ev.roleRead?.outcome === 'not-found')
    return `wrong path, key or KV version: ESO's read of ${paths || 'the path'} finds no data${notFound ? ` (${clip(vaultWords(notFound))})` : ''}`;

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

/** The informative tail of an ESO error: from "err: " or Vault's "Errors:" on, without the request URL. */
export function vaultWords(text: string): string {
  const one = text.replace(/\s+/g, ' ').trim();
  const errors = /Code: (\d+)\. Errors: (?:\* \d+ errors? occurred: )?\* (.*)$/.exec(one);
  if (errors) return `HTTP ${errors[1]}: ${errors[2]?.replace(/\s*\*\s*/g, '; ').trim()}`;
  const err = one.lastIndexOf('err: ');
  return err >= 0 ? one.slice(err + 5) : one;
}

function clip(s: string, n = 160): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > n ? `${one.slice(0, n - 1)}…` : one;
}
