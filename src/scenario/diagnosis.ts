/**
 * Why did a Secret not follow Vault? A pure function from collected evidence to one line.
 *
 * Two kinds of evidence: what holds now (Vault's health, the objects' current conditions, what Vault has at the
 * path the store reads, the mount's real KV version, Vault's answer to the store's role) and what ESO said when it
 * last tried (Events and log lines). ESO's newest complaint is the one that counts — an older, contrary one never
 * decides — and every complaint is checked against the current state before it is repeated: a store ESO found
 * "not ready" that is Ready now, a key it could not find that exists now, are said to be so.
 */
import type { Condition } from '../kube/external-secrets.ts';
import { formatMs } from '../errors.ts';
import { esoReadPath, type EsoReadPath } from './eso-read-path.ts';

export interface RemoteRefEvidence {
  /** `spec.data[].remoteRef.key` or `spec.dataFrom[].extract.key`. */
  key: string;
  property?: string;
}

/** What Vault (admin token) holds where the store makes ESO read one key. */
export interface VaultReadEvidence {
  key: string;
  /** The API path ESO requests for it (`secret/data/my-app/config`, `kv1/my-app/config`). */
  apiPath: string;
  exists: boolean;
  /** Top-level key names of the secret (never values). */
  keys?: string[];
  /** Keys of nested JSON objects, for properties like `db.host` (names only). */
  nested?: Record<string, string[]>;
}

export interface DiagnosisEvidence {
  /** When the assertion gave up (ms since epoch). */
  now: number;
  vault: {
    /** Vault as this tool reaches it. */
    address: string;
    /** Vault as ESO reaches it in this lab (`${vaultServer}`). */
    serverForEso?: string;
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
    /** Each remoteRef with its property. */
    refs?: RemoteRefEvidence[];
  };
  store?: {
    kind: string;
    name: string;
    exists: boolean;
    ready?: Condition;
    /** provider.vault.version ("v1"/"v2"; ESO's default is v2). */
    version?: string;
    /** provider.vault.path: the KV mount. */
    mount?: string;
    /** provider.vault.server: Vault's URL as the store gives it to ESO. */
    server?: string;
    /** Kubernetes auth role and ServiceAccount the store logs in with. */
    role?: string;
    serviceAccount?: string;
  };
  /** The store's mount as Vault reports it (sys/mounts); `exists: false` when nothing is mounted there. */
  mount?: { path: string; exists: boolean; type?: string; kvVersion?: number };
  /** Events of the ExternalSecret and its store (reason: message), oldest first. */
  events: string[];
  /** ESO's log lines about them (redacted), oldest first. */
  esoLog: string;
  /** Latest Vault ack among the involved paths. */
  ackAt?: number;
  /** Paths the assertion expected and whether Vault (admin token) has them. */
  paths: { path: string; existsInVault?: boolean }[];
  /** Other paths the ExternalSecret reads (remoteRef keys) and whether Vault has them. */
  remotePaths?: { path: string; existsInVault?: boolean }[];
  /** What Vault holds where ESO reads each remoteRef key, through the store's path and version. */
  reads?: VaultReadEvidence[];
  /** Reading the store's first path with the store's role (login as its ServiceAccount). */
  roleRead?: {
    outcome: 'ok' | 'denied' | 'not-found' | 'login-failed' | 'error';
    message?: string;
    apiPath?: string;
  };
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
 *   no data:       "err: Secret does not exist"
 *   Vault down:    "dial tcp 127.0.0.1:PORT: connect: connection refused"
 *   bad host:      "… dial tcp: lookup HOST on SERVER:53: no such host" / "dial tcp: address HOST: no suitable address found"
 */
const LOGIN_REFUSED =
  /auth\/[\w/-]+\/login Code: 4\d\d|service account (?:name|namespace) not authorized|invalid role name|unable to log in with Kubernetes auth: .*(?:permission denied|403)/i;
const PERMISSION = /permission denied|Code: 403/i;
const STORE_MISSING = /could not get (?:Cluster)?SecretStore "([^"]+)".*not found/i;
const STORE_NOT_READY = /(?:Cluster)?SecretStore "([^"]+)" is not ready/i;
const MISSING_KEY = /cannot find secret data for key: "([^"]*)"/i;
const NOT_FOUND =
  /secret does not exist|no secret (?:data )?found|key .* (?:does not exist|not found)|Code: 404/i;
const SEALED = /Vault is sealed|Code: 503/i;
const HOST_UNRESOLVED =
  /lookup ([^\s:]+)(?: on [^\s]+)?: no such host|address ([^\s:]+): no suitable address found|lookup ([^\s:]+)(?: on [^\s]+)?: server misbehaving/i;
const UNREACHABLE =
  /connection refused|no such host|no suitable address found|i\/o timeout|dial tcp|ECONNREFUSED|context deadline exceeded|EOF$/i;

type Complaint =
  | { kind: 'sealed'; text: string }
  | { kind: 'host-unresolved'; text: string; host: string }
  | { kind: 'unreachable'; text: string }
  | { kind: 'login-refused'; text: string }
  | { kind: 'denied'; text: string }
  | { kind: 'store-missing'; text: string; store: string }
  | { kind: 'store-not-ready'; text: string; store: string }
  | { kind: 'missing-key'; text: string; property: string }
  | { kind: 'not-found'; text: string };

/** What one ESO text complains about (undefined: not a complaint we know). Most specific first. */
export function classify(text: string): Complaint | undefined {
  const t = text.replace(/\s+/g, ' ');
  if (SEALED.test(t)) return { kind: 'sealed', text };
  const host = HOST_UNRESOLVED.exec(t);
  if (host) return { kind: 'host-unresolved', text, host: host[1] ?? host[2] ?? host[3] ?? '' };
  if (LOGIN_REFUSED.test(t)) return { kind: 'login-refused', text };
  const missing = STORE_MISSING.exec(t);
  if (missing) return { kind: 'store-missing', text, store: missing[1] ?? '' };
  const notReady = STORE_NOT_READY.exec(t);
  if (notReady) return { kind: 'store-not-ready', text, store: notReady[1] ?? '' };
  if (PERMISSION.test(t)) return { kind: 'denied', text };
  const key = MISSING_KEY.exec(t);
  if (key) return { kind: 'missing-key', text, property: key[1] ?? '' };
  if (NOT_FOUND.test(t)) return { kind: 'not-found', text };
  if (UNREACHABLE.test(t)) return { kind: 'unreachable', text };
  return undefined;
}

/** ESO's complaints, newest first: Events (ESO's recorded reasons), then log lines, then failing conditions. */
function complaints(ev: DiagnosisEvidence): Complaint[] {
  const failing = (c: Condition | undefined) => (c?.status === 'False' ? (c.message ?? '') : '');
  const texts = [
    ...[...ev.events].reverse(),
    ...ev.esoLog.split('\n').filter(Boolean).reverse(),
    failing(ev.store?.ready),
    failing(ev.externalSecret?.ready),
  ].filter(Boolean);
  return texts.map(classify).filter((c): c is Complaint => c !== undefined);
}

function at(ms: number): string {
  return new Date(ms).toISOString();
}

export function diagnose(ev: DiagnosisEvidence): string {
  const es = ev.externalSecret;
  const store = ev.store;
  const paths = ev.paths.map((p) => p.path).join(', ');

  // 1. Vault itself, now.
  if (!ev.vault.health)
    return `Vault unreachable at ${ev.vault.address}${ev.vault.unreachableError ? ` (${ev.vault.unreachableError})` : ''}: ESO cannot read, the Secret keeps its old value`;
  if (ev.vault.health.sealed)
    return 'Vault is sealed: every read fails until it is unsealed (ESO keeps the old Secret and backs off)';

  // 2. Objects that must exist, now.
  if (es && !es.exists) return `ExternalSecret ${es.name} does not exist`;
  if (store && !store.exists)
    return `${store.kind} ${store.name} does not exist: the ExternalSecret has no store to read from`;

  const all = complaints(ev);
  // ESO could not find the store and we could not read it either (when we did, it exists now: an early "not
  // found" was only the store being applied after the ExternalSecret, and a newer complaint decides).
  const live = all.filter((c) => !(c.kind === 'store-missing' && store));
  const latest = live[0];
  if (latest?.kind === 'store-missing')
    return `${latest.store || 'the store'} does not exist: the ExternalSecret has no store to read from`;

  // 3. Where the store makes ESO read, checked against Vault now.
  const stored = storeReads(ev);
  const version = kvVersionMismatch(ev);
  if (version) return version;
  if (ev.mount && !ev.mount.exists && store?.mount)
    return `wrong path: ${store.kind} ${store.name} reads from mount ${store.mount}/, but nothing is mounted there in Vault`;
  const absent = stored.find((r) => !r.exists);
  if (absent && latest?.kind !== 'missing-key')
    return `wrong path: ESO reads ${absent.apiPath} (remoteRef key ${absent.key}${storeWords(store)}), which does not exist in Vault`;
  if (!ev.reads) {
    const missing = [...ev.paths, ...(ev.remotePaths ?? [])].find((p) => p.existsInVault === false);
    if (missing) return `wrong path: ${missing.path} does not exist in Vault`;
  }
  if (es?.remoteKeys?.length && ev.paths.length) {
    const wanted = new Set(ev.paths.map((p) => normalize(p.path, store?.mount)));
    const reads = es.remoteKeys.map((k) => normalize(k, store?.mount));
    if (!reads.some((k) => wanted.has(k)))
      return `wrong path: ExternalSecret ${es.name} reads ${es.remoteKeys.join(', ')}, the scenario wrote ${paths}`;
  }

  // 4. Vault's own answer to the store's role, now.
  if (ev.roleRead?.outcome === 'denied')
    return `permission denied: the store's Vault role${store?.role ? ` ${store.role}` : ''} cannot read ${ev.roleRead.apiPath ?? paths} (its policies lack read on ${ev.roleRead.apiPath ?? storeDataPath(ev)})`;

  // 5. ESO's newest complaint, checked against now.
  if (latest) {
    const said = explain(latest, ev, all);
    if (said) return said;
  }

  // 6. No complaint from ESO that still holds: the state now.
  if (store?.ready && store.ready.status !== 'True')
    return `${store.kind} ${store.name} not ready: ${store.ready.reason ?? ''}${store.ready.message ? ` ${store.ready.message}` : ''}`.trim();
  if (ev.roleRead?.outcome === 'login-failed')
    return `Vault refused the login${store?.serviceAccount ? ` as ${store.serviceAccount}` : ''}${store?.role ? ` to role ${store.role}` : ''}${ev.roleRead.message ? ` (${clip(ev.roleRead.message, 120)})` : ''}: the role is not bound to this ServiceAccount and namespace, or does not exist`;
  if (es?.ready?.status === 'False')
    return `ESO error backoff: ${es.ready.reason ?? 'not ready'}${es.ready.message ? ` — ${clip(es.ready.message)}` : ''} (retries back off from 1 s up to ~7 min)`;

  // 7. Refresh semantics.
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

/** One complaint, said as what it means now; undefined when the current state contradicts it and it says nothing more. */
function explain(c: Complaint, ev: DiagnosisEvidence, all: readonly Complaint[]): string | undefined {
  const store = ev.store;
  const es = ev.externalSecret;
  const paths = ev.paths.map((p) => p.path).join(', ');
  const stored = storeReads(ev);
  switch (c.kind) {
    case 'sealed':
      return `Vault was sealed when ESO last tried (${clip(vaultWords(c.text))}); it is unsealed now and ESO backs off before retrying`;
    case 'host-unresolved': {
      const server = store?.server ? ` ${store.kind} ${store.name} has server ${store.server};` : '';
      const lab = ev.vault.serverForEso
        ? ` the Vault this scenario uses is at ${ev.vault.serverForEso} (\${vaultServer} in a manifest)`
        : '';
      return `ESO cannot resolve Vault's host ${c.host || '(unknown)'} (${clip(vaultWords(c.text))}): that name does not resolve from where ESO runs;${server}${lab}`.replace(
        /;$/,
        '',
      );
    }
    case 'unreachable': {
      if (store?.server && ev.vault.serverForEso && sameServer(store.server, ev.vault.serverForEso) === false)
        return `ESO could not reach Vault at ${store.server} (${clip(vaultWords(c.text))}): ${store.kind} ${store.name} points elsewhere than the Vault this scenario uses, ${ev.vault.serverForEso} (\${vaultServer} in a manifest)`;
      if (es?.ready?.status === 'False')
        return `ESO could not reach Vault (${clip(vaultWords(c.text))}) when it last tried; Vault answers now and ESO is backing off before retrying`;
      return undefined;
    }
    case 'login-refused': {
      const who = store?.serviceAccount ? ` as ${store.serviceAccount}` : '';
      const role = store?.role ? ` to role ${store.role}` : '';
      const words = vaultWords(c.text);
      if (ev.roleRead && ev.roleRead.outcome !== 'login-failed')
        return `Vault refused ESO's login${who}${role} when it last tried (${clip(words, 120)}); the login works now, ESO retries after its backoff`;
      return `Vault refused the login${who}${role} (${clip(words, 120)}): the role is not bound to this ServiceAccount and namespace, or does not exist${store && store.ready?.status !== 'True' ? `; ${store.kind} ${store.name} is not ready` : ''}`;
    }
    case 'store-not-ready': {
      const kind = store?.kind ?? 'SecretStore';
      if (store?.ready?.status === 'True')
        return `${kind} ${c.store} was not ready when ESO last tried (${clip(vaultWords(c.text))}); it is Ready now and ESO retries after its backoff`;
      // The store's own newest complaint says why (its login, Vault's health).
      const why = all.find(
        (x) => x.kind === 'login-refused' || x.kind === 'host-unresolved' || x.kind === 'sealed',
      );
      if (why) return explain(why, ev, []);
      if (store?.ready)
        return `${kind} ${store.name} not ready: ${store.ready.reason ?? ''}${store.ready.message ? ` ${store.ready.message}` : ''}`.trim();
      return `${kind} ${c.store} was not ready when ESO last tried; ESO backs off before retrying`;
    }
    case 'store-missing':
      return undefined;
    case 'denied': {
      if (store?.ready?.status === 'False' && PERMISSION.test(store.ready.message ?? ''))
        return `permission denied at login: ${store.kind} ${store.name} cannot authenticate to Vault (role binding, ServiceAccount or TokenReview/auth-delegator)`;
      const where = ev.roleRead?.apiPath ?? stored[0]?.apiPath;
      if (ev.roleRead?.outcome === 'ok')
        return `Vault refused ESO's read when it last tried (${clip(vaultWords(c.text))}), but the store's role can read ${where ?? paths} now (policy changed since?); ESO retries after its backoff`;
      const unsure =
        ev.mount?.kvVersion === undefined && store?.version !== undefined
          ? `; not sure: the mount's KV version could not be checked, and a store of the wrong version (${store.version}) gets this answer too`
          : '';
      return `permission denied: Vault refused ESO's read of ${where ?? (paths || 'the path')} (check the role's policies)${unsure}`;
    }
    case 'missing-key': {
      const read =
        stored.find((r) => es?.refs?.some((x) => x.key === r.key && x.property === c.property)) ?? stored[0];
      if (read && !read.exists)
        return `wrong path: ESO reads ${read.apiPath} (remoteRef key ${read.key}${storeWords(store)}), which does not exist in Vault`;
      if (read?.keys) {
        const found = propertyKnown(read, c.property);
        if (found)
          return `remoteRef.property "${c.property}" was missing when ESO last tried, and ${read.apiPath} has it now; ESO picks it up at its next retry`;
        return `wrong property: remoteRef.property "${c.property}" does not exist in ${read.apiPath}; the keys there are ${describeKeys(read, c.property)}`;
      }
      return `wrong property: ESO finds no key "${c.property}" in ${read?.apiPath ?? (paths || 'the secret')} (${clip(vaultWords(c.text))})`;
    }
    case 'not-found': {
      const read = stored[0];
      if (read?.exists)
        return `ESO found no data at ${read.apiPath} when it last tried (${clip(vaultWords(c.text))}); Vault has data there now, ESO reads it at its next retry`;
      return `wrong path: ESO's read of ${read?.apiPath ?? (paths || 'the path')} finds no data (${clip(vaultWords(c.text))})`;
    }
  }
}

/** Reads through the store, from the evidence (or derived from the ES's keys when Vault was not asked). */
function storeReads(ev: DiagnosisEvidence): VaultReadEvidence[] {
  return ev.reads ?? [];
}

function storeWords(store: DiagnosisEvidence['store']): string {
  if (!store) return '';
  return ` through ${store.kind} ${store.name}: path ${store.mount ?? '(none)'}, version ${store.version ?? 'v2'}`;
}

/** The store's `version` against the mount's real KV version (sys/mounts); undefined when they agree or are unknown. */
function kvVersionMismatch(ev: DiagnosisEvidence): string | undefined {
  const store = ev.store;
  const real = ev.mount?.kvVersion;
  if (!store || !ev.mount?.exists || ev.mount.type !== 'kv' || real === undefined) return undefined;
  const wanted = store.version === 'v1' ? 1 : 2;
  if (wanted === real) return undefined;
  const mount = ev.mount.path;
  const reads =
    wanted === 1
      ? `${mount}/<path> instead of ${mount}/data/<path>`
      : `${mount}/data/<path> instead of ${mount}/<path>`;
  return `wrong KV version: ${store.kind} ${store.name} uses version v${wanted} but ${mount}/ is a KV v${real} mount (ESO reads ${reads})`;
}

function propertyKnown(read: VaultReadEvidence, property: string): boolean {
  if (read.keys?.includes(property)) return true;
  const segs = property.split('.');
  if (segs.length < 2) return false;
  const parent = segs.slice(0, -1).join('.');
  return read.nested?.[parent]?.includes(segs.at(-1) as string) ?? false;
}

function describeKeys(read: VaultReadEvidence, property: string): string {
  const segs = property.split('.');
  for (let i = segs.length - 1; i > 0; i--) {
    const parent = segs.slice(0, i).join('.');
    const nested = read.nested?.[parent];
    if (nested) return `${nested.join(', ') || '(none)'} (under ${parent})`;
  }
  return read.keys?.length ? read.keys.join(', ') : '(none)';
}

function sameServer(a: string, b: string): boolean | undefined {
  try {
    const x = new URL(a);
    const y = new URL(b);
    return x.host === y.host && x.protocol === y.protocol;
  } catch {
    return undefined;
  }
}

function normalize(p: string, mount = 'secret'): string {
  return esoReadPath(p, { mount, version: 'v2' }).path.replace(/\/+$/, '');
}

function storeDataPath(ev: DiagnosisEvidence): string {
  const store = ev.store;
  const list = ev.paths.map((p) =>
    esoReadPath(p.path, { mount: store?.mount ?? 'secret', version: store?.version ?? 'v2' }),
  );
  return list.map((r: EsoReadPath) => r.apiPath).join(', ') || `${store?.mount ?? 'secret'}/data/...`;
}

/** The informative tail of an ESO error: from "err: " or Vault's "Errors:" on, without the request URL. */
export function vaultWords(text: string): string {
  const one = text
    .replace(/\s+/g, ' ')
    .trim()
    // An Event's "Warning Reason (x3): " and Go's `Put "http://…/login": ` say nothing the rest does not.
    .replace(/^(?:Warning|Normal) [A-Za-z]+(?: \(x\d+\))?: /, '')
    .replace(/\b(?:Get|Put|Post|Patch|Delete) "[^"]+": /g, '');
  const errors = /Code: (\d+)\. Errors: (?:\* \d+ errors? occurred: )?\* (.*)$/.exec(one);
  if (errors) return `HTTP ${errors[1]}: ${errors[2]?.replace(/\s*\*\s*/g, '; ').trim()}`;
  const err = one.lastIndexOf('err: ');
  return err >= 0 ? one.slice(err + 5) : one;
}

/** Shorten the middle, never the end: the decisive part of an error ("no such host") is last. */
export function clip(s: string, n = 160): string {
  const one = s.replace(/\s+/g, ' ').trim();
  if (one.length <= n) return one;
  const tail = Math.ceil((n - 1) * 0.6);
  const head = n - 1 - tail;
  return `${one.slice(0, head)}…${one.slice(one.length - tail)}`;
}
