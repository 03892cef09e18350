/**
 * KV engines of either version at any mount, on top of VaultClient.request(): what a scenario's own mount needs
 * (`vaultSetup.mount`) and what the diagnosis reads to follow a SecretStore's `path` and `version`. KV v1 keeps the
 * data at `<mount>/<path>`, KV v2 at `<mount>/data/<path>` (custom_metadata at `<mount>/metadata/<path>`).
 * Values may be JSON objects (ESO's nested `property: db.host`). Nothing here prints a value.
 */
import { LabError } from '../errors.ts';
import type { KvWriteResult, VaultClient } from './client.ts';

export type KvVersion = 1 | 2;

/** Where one KV secret lives: the mount, the engine version, and the path inside the mount. */
export interface KvLocation {
  mount: string;
  version: KvVersion;
  path: string;
}

/** A secret's data: string values, or JSON values (objects, numbers) for nested properties. */
export type KvData = Record<string, unknown>;

export interface KvRead {
  data: KvData;
  /** KV v2 only: the version number of the secret (not the engine's). */
  secretVersion?: number;
  customMetadata?: Record<string, string>;
}

export interface MountInfo {
  /** Mount path without slashes (`secret`, `kv1`). */
  path: string;
  type: string;
  /** For `kv`: the engine version Vault reports (`options.version`; an unversioned kv mount is version 1). */
  kvVersion?: KvVersion;
}

function trim(p: string): string {
  return p.replace(/^\/+|\/+$/g, '');
}

/** The API path of a KV secret: v1 `<mount>/<path>`, v2 `<mount>/<data|metadata>/<path>`. */
export function kvApiPath(loc: KvLocation, kind: 'data' | 'metadata' = 'data'): string {
  const mount = trim(loc.mount);
  const path = trim(loc.path);
  return loc.version === 1 ? `${mount}/${path}` : `${mount}/${kind}/${path}`;
}

/** The secrets engine mounted at `mount` (GET sys/mounts/<mount>); undefined when nothing is mounted there. */
export async function readMount(
  vault: VaultClient,
  mount: string,
  signal?: AbortSignal,
): Promise<MountInfo | undefined> {
  const path = trim(mount);
  const r = await vault.request<{
    data?: { type?: string; options?: { version?: string } | null };
    type?: string;
    options?: { version?: string } | null;
  }>('GET', `sys/mounts/${path}`, undefined, { okStatuses: [400, 404], ...(signal ? { signal } : {}) });
  if (r.status === 400 || r.status === 404 || !r.body) return undefined;
  const d = r.body.data ?? r.body;
  const type = d.type ?? '';
  if (!type) return undefined;
  return {
    path,
    type,
    ...(type === 'kv' ? { kvVersion: d.options?.version === '2' ? 2 : 1 } : {}),
  };
}

/** Enable a KV engine of `version` at `mount`; 'existing' when a KV engine of that version is already there. */
export async function enableKvMount(
  vault: VaultClient,
  mount: string,
  version: KvVersion,
  signal?: AbortSignal,
): Promise<'enabled' | 'existing'> {
  const path = trim(mount);
  const existing = await readMount(vault, path, signal);
  if (existing) {
    if (existing.type === 'kv' && existing.kvVersion === version) return 'existing';
    throw new LabError(
      'E_VAULT',
      `mount ${path}/ already holds ${existing.type}${existing.kvVersion ? ` version ${existing.kvVersion}` : ''}, not KV version ${version}`,
    );
  }
  await vault.request(
    'POST',
    `sys/mounts/${path}`,
    { type: 'kv', options: { version: String(version) } },
    signal ? { signal } : {},
  );
  return 'enabled';
}

export async function disableMount(vault: VaultClient, mount: string, signal?: AbortSignal): Promise<void> {
  await vault.request('DELETE', `sys/mounts/${trim(mount)}`, undefined, signal ? { signal } : {});
}

/** Create or replace a secret. KV v1 keeps no versions: `version` is 0 there. */
export async function kvWrite(
  vault: VaultClient,
  loc: KvLocation,
  data: KvData,
  signal?: AbortSignal,
): Promise<KvWriteResult> {
  const body = loc.version === 1 ? data : { data };
  const r = await vault.request<{ data?: { version?: number; created_time?: string } }>(
    'POST',
    kvApiPath(loc),
    body,
    signal ? { signal } : {},
  );
  return {
    version: r.body?.data?.version ?? 0,
    createdTime: r.body?.data?.created_time ?? new Date(r.at).toISOString(),
    ackAt: r.at,
  };
}

/** KV v2 custom_metadata (the tags `dataFrom.find` can select by). */
export async function kvWriteCustomMetadata(
  vault: VaultClient,
  loc: KvLocation,
  customMetadata: Record<string, string>,
  signal?: AbortSignal,
): Promise<void> {
  if (loc.version !== 2)
    throw new LabError('E_VAULT', `custom_metadata needs KV version 2 (${loc.mount}/ is version 1)`);
  await vault.request(
    'POST',
    kvApiPath(loc, 'metadata'),
    { custom_metadata: customMetadata },
    signal ? { signal } : {},
  );
}

/** Read a secret; undefined when the path holds nothing. `token` reads as someone else (a role). */
export async function kvRead(
  vault: VaultClient,
  loc: KvLocation,
  options: { signal?: AbortSignal; token?: string } = {},
): Promise<KvRead | undefined> {
  const r = await vault.request<{
    data?: {
      data?: KvData | null;
      metadata?: { version?: number; custom_metadata?: Record<string, string> | null } | null;
    } & KvData;
  }>('GET', kvApiPath(loc), undefined, {
    okStatuses: [404],
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.token !== undefined ? { token: options.token } : {}),
  });
  if (r.status === 404 || !r.body?.data) return undefined;
  if (loc.version === 1) return { data: r.body.data };
  const d = r.body.data;
  if (!d.data) return undefined;
  const meta = d.metadata ?? undefined;
  return {
    data: d.data,
    ...(meta?.version !== undefined ? { secretVersion: meta.version } : {}),
    ...(meta?.custom_metadata ? { customMetadata: meta.custom_metadata } : {}),
  };
}

/** Delete a secret for good: v1 DELETE `<mount>/<path>`, v2 every version and the metadata. */
export async function kvDestroy(vault: VaultClient, loc: KvLocation, signal?: AbortSignal): Promise<void> {
  await vault.request(
    'DELETE',
    loc.version === 1 ? kvApiPath(loc) : kvApiPath(loc, 'metadata'),
    undefined,
    signal ? { signal } : {},
  );
}
