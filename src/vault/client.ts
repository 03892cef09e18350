/**
 * The one Vault (OpenBao) client: every Vault call in the tool and its tests goes through here. Built on
 * node-vault (URLs, the token header, response checks, Vault's `errors` list) with a fetch transport that carries
 * the caller's AbortSignal and a per-request timeout (see fetch-transport.ts for why node-vault's own transport
 * cannot); it adds the acknowledgement timestamp of writes and one typed error, VaultRequestError. Tokens and
 * values never appear in error text.
 */
import { LabError, abortError, errorMessage } from '../errors.ts';
import { TransportTimeoutError } from './fetch-transport.ts';
import { isApiResponseError, nodeVaultClient, vaultErrors, type NodeVaultClient } from './node-vault.ts';
import { VaultRequestError } from './vault-error.ts';
import type {
  HealthStatus,
  KubernetesAuthConfig,
  KubernetesRole,
  KvMetadata,
  KvReadResult,
  KvWriteResult,
  RequestOptions,
  TokenInfo,
  VaultMethod,
  VaultResponse,
} from './vault-types.ts';

export { VaultRequestError } from './vault-error.ts';
export type * from './vault-types.ts';

export interface VaultClientOptions {
  address: string;
  token: string;
  /** KV v2 mount, `secret` on dev servers. */
  kvMount?: string;
  /** Per-request timeout (also bounded by the caller's signal). */
  requestTimeoutMs?: number;
  fetch?: typeof fetch;
}

export class VaultClient {
  readonly address: string;
  readonly kvMount: string;
  private readonly token: string;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;
  /** node-vault for this token, and the same server without a token (sys/health, unseal, logins): made on first use. */
  private clients?: Promise<{ nv: NodeVaultClient; anonymous: NodeVaultClient }>;

  constructor(options: VaultClientOptions) {
    this.address = options.address.replace(/\/+$/, '');
    this.token = options.token;
    this.kvMount = (options.kvMount ?? 'secret').replace(/^\/+|\/+$/g, '');
    this.timeoutMs = options.requestTimeoutMs ?? 10_000;
    this.fetchFn = options.fetch ?? ((input, init) => fetch(input, init));
  }

  private nodeVault(): Promise<{ nv: NodeVaultClient; anonymous: NodeVaultClient }> {
    this.clients ??= (async () => ({
      nv: await nodeVaultClient(this.address, this.token, this.fetchFn, this.timeoutMs),
      anonymous: await nodeVaultClient(this.address, '', this.fetchFn, this.timeoutMs),
    }))();
    // A failed load is tried again by the next request, not remembered.
    this.clients.catch(() => (this.clients = undefined));
    return this.clients;
  }

  /** A client for the same server with another token (e.g. a role's token after login). */
  withToken(token: string): VaultClient {
    return new VaultClient({
      address: this.address,
      token,
      kvMount: this.kvMount,
      requestTimeoutMs: this.timeoutMs,
      fetch: this.fetchFn,
    });
  }

  /** Low-level request. `path` is relative to `/v1/` (a `?query` is kept). */
  async request<T = Record<string, unknown>>(
    method: VaultMethod,
    path: string,
    body?: unknown,
    options: RequestOptions = {},
  ): Promise<VaultResponse<T>> {
    const cleanPath = path.replace(/^\/+/, '');
    const requestOptions: Record<string, unknown> = { signal: options.signal };
    if (options.token) requestOptions.headers = { 'X-Vault-Token': options.token };
    let answer: unknown;
    try {
      const clients = await this.nodeVault();
      const nv = options.token === '' ? clients.anonymous : clients.nv;
      answer = await this.send(nv, method, cleanPath, body, requestOptions);
    } catch (e) {
      const at = Date.now();
      if (options.signal?.aborted) throw abortError(options.signal);
      if (isApiResponseError(e)) {
        const status = e.response.statusCode;
        if ((options.okStatuses ?? []).includes(status))
          return { status, body: e.response.body as T | undefined, at };
        throw new VaultRequestError(method, cleanPath, status, vaultErrors(e.response.body));
      }
      const reason =
        e instanceof TransportTimeoutError
          ? e.message
          : e instanceof Error && e.cause instanceof Error
            ? e.cause.message
            : errorMessage(e);
      throw new VaultRequestError(method, cleanPath, 0, [reason], e);
    }
    return { status: answer === undefined ? 204 : 200, body: answer as T | undefined, at: Date.now() };
  }

  /** One node-vault call per verb. */
  private send(
    nv: NodeVaultClient,
    method: VaultMethod,
    path: string,
    body: unknown,
    requestOptions: Record<string, unknown>,
  ): Promise<unknown> {
    switch (method) {
      case 'GET':
        return nv.read(path, requestOptions);
      case 'LIST':
        return nv.list(path, requestOptions);
      case 'DELETE':
        return nv.delete(path, requestOptions);
      case 'POST':
        return nv.write(path, body ?? {}, requestOptions);
      case 'PATCH':
        // nv.update() would replace the headers (and with them a per-call token) by its content type.
        return nv.request({
          ...requestOptions,
          path: `/${path}`,
          method: 'PATCH',
          json: body ?? {},
          headers: {
            ...(requestOptions.headers as Record<string, string> | undefined),
            'Content-Type': 'application/merge-patch+json',
          },
        });
      case 'PUT':
        return nv.request({
          ...requestOptions,
          path: `/${path}`,
          method: 'PUT',
          ...(body === undefined ? {} : { json: body }),
        });
    }
  }

  private kvPath(kind: 'data' | 'metadata', path: string): string {
    return `${this.kvMount}/${kind}/${stripMount(path, this.kvMount)}`;
  }

  /** KV v2 create/replace. */
  async kvPut(path: string, data: Record<string, string>, signal?: AbortSignal): Promise<KvWriteResult> {
    const r = await this.request<{ data: { version: number; created_time: string } }>(
      'POST',
      this.kvPath('data', path),
      { data },
      signal ? { signal } : {},
    );
    return { version: r.body?.data.version ?? 0, createdTime: r.body?.data.created_time ?? '', ackAt: r.at };
  }

  /** KV v2 patch (merge into the current version; the path must exist). */
  async kvPatch(path: string, data: Record<string, string>, signal?: AbortSignal): Promise<KvWriteResult> {
    const r = await this.request<{ data: { version: number; created_time: string } }>(
      'PATCH',
      this.kvPath('data', path),
      { data },
      signal ? { signal } : {},
    );
    return { version: r.body?.data.version ?? 0, createdTime: r.body?.data.created_time ?? '', ackAt: r.at };
  }

  /** KV v2 read of the latest (or a given) version; undefined when the path does not exist. */
  async kvGet(
    path: string,
    options: RequestOptions & { version?: number } = {},
  ): Promise<KvReadResult | undefined> {
    const q = options.version === undefined ? '' : `?version=${options.version}`;
    const r = await this.request<{
      data: { data: Record<string, string> | null; metadata: { version: number; created_time: string } };
    }>('GET', this.kvPath('data', path) + q, undefined, { ...options, okStatuses: [404] });
    if (r.status === 404 || !r.body?.data.data) return undefined;
    return {
      data: r.body.data.data,
      version: r.body.data.metadata.version,
      createdTime: r.body.data.metadata.created_time,
    };
  }

  /** KV v2 soft-delete of the latest version. */
  async kvDelete(path: string, signal?: AbortSignal): Promise<void> {
    await this.request('DELETE', this.kvPath('data', path), undefined, signal ? { signal } : {});
  }

  /** KV v2 delete of all versions and metadata. */
  async kvDestroyAll(path: string, signal?: AbortSignal): Promise<void> {
    await this.request('DELETE', this.kvPath('metadata', path), undefined, signal ? { signal } : {});
  }

  async kvMetadata(path: string, signal?: AbortSignal): Promise<KvMetadata | undefined> {
    const r = await this.request<{
      data: {
        current_version: number;
        oldest_version: number;
        created_time?: string;
        updated_time?: string;
        versions: KvMetadata['versions'];
      };
    }>('GET', this.kvPath('metadata', path), undefined, { okStatuses: [404], ...(signal ? { signal } : {}) });
    if (r.status === 404 || !r.body) return undefined;
    const d = r.body.data;
    return {
      currentVersion: d.current_version,
      oldestVersion: d.oldest_version,
      ...(d.created_time ? { createdTime: d.created_time } : {}),
      ...(d.updated_time ? { updatedTime: d.updated_time } : {}),
      versions: d.versions,
    };
  }

  /** Keys under a KV v2 metadata directory (`dir/` entries end in a slash); empty when there is nothing. */
  async kvList(dir: string, signal?: AbortSignal): Promise<string[]> {
    const d = stripMount(dir, this.kvMount).replace(/\/+$/, '');
    const r = await this.request<{ data?: { keys?: string[] } }>(
      'LIST',
      `${this.kvMount}/metadata/${d ? d + '/' : ''}`,
      undefined,
      { okStatuses: [404], ...(signal ? { signal } : {}) },
    );
    return r.status === 404 ? [] : (r.body?.data?.keys ?? []);
  }

  async policyList(signal?: AbortSignal): Promise<string[]> {
    const r = await this.request<{ data?: { keys?: string[] } }>('LIST', 'sys/policies/acl', undefined, {
      okStatuses: [404],
      ...(signal ? { signal } : {}),
    });
    return r.status === 404 ? [] : (r.body?.data?.keys ?? []);
  }

  /** The policy's rules; undefined when there is no such policy. */
  async policyRead(name: string, signal?: AbortSignal): Promise<string | undefined> {
    const r = await this.request<{ data?: { policy?: string } }>(
      'GET',
      `sys/policies/acl/${name}`,
      undefined,
      { okStatuses: [404], ...(signal ? { signal } : {}) },
    );
    return r.status === 404 ? undefined : r.body?.data?.policy;
  }

  async policyWrite(name: string, rules: string, signal?: AbortSignal): Promise<void> {
    await this.request('PUT', `sys/policies/acl/${name}`, { policy: rules }, signal ? { signal } : {});
  }

  async policyDelete(name: string, signal?: AbortSignal): Promise<void> {
    await this.request('DELETE', `sys/policies/acl/${name}`, undefined, signal ? { signal } : {});
  }

  async authList(signal?: AbortSignal): Promise<Record<string, { type: string }>> {
    const r = await this.request<Record<string, unknown>>(
      'GET',
      'sys/auth',
      undefined,
      signal ? { signal } : {},
    );
    const body = r.body ?? {};
    const table = (body.data && typeof body.data === 'object' ? body.data : body) as Record<string, unknown>;
    const out: Record<string, { type: string }> = {};
    for (const [k, v] of Object.entries(table))
      if (k.endsWith('/') && v && typeof v === 'object' && 'type' in v)
        out[k] = { type: String((v as { type: unknown }).type) };
    return out;
  }

  /** Enable an auth method at `path` unless something of that type is already mounted there. */
  async authEnable(path: string, type: string, signal?: AbortSignal): Promise<'enabled' | 'existing'> {
    const mounts = await this.authList(signal);
    const existing = mounts[`${path.replace(/\/+$/, '')}/`];
    if (existing) {
      if (existing.type !== type)
        throw new LabError('E_VAULT', `auth path ${path}/ is already mounted with type ${existing.type}`);
      return 'existing';
    }
    await this.request('POST', `sys/auth/${path}`, { type }, signal ? { signal } : {});
    return 'enabled';
  }

  async authDisable(path: string, signal?: AbortSignal): Promise<void> {
    await this.request('DELETE', `sys/auth/${path}`, undefined, signal ? { signal } : {});
  }

  async kubernetesAuthConfig(
    mount: string,
    config: KubernetesAuthConfig,
    signal?: AbortSignal,
  ): Promise<void> {
    await this.request(
      'POST',
      `auth/${mount}/config`,
      {
        kubernetes_host: config.kubernetesHost,
        ...(config.kubernetesCaCert ? { kubernetes_ca_cert: config.kubernetesCaCert } : {}),
        ...(config.disableLocalCaJwt === undefined ? {} : { disable_local_ca_jwt: config.disableLocalCaJwt }),
        ...(config.tokenReviewerJwt ? { token_reviewer_jwt: config.tokenReviewerJwt } : {}),
      },
      signal ? { signal } : {},
    );
  }

  async kubernetesRoleWrite(
    mount: string,
    name: string,
    role: KubernetesRole,
    signal?: AbortSignal,
  ): Promise<void> {
    await this.request(
      'POST',
      `auth/${mount}/role/${name}`,
      {
        bound_service_account_names: role.boundServiceAccountNames,
        bound_service_account_namespaces: role.boundServiceAccountNamespaces,
        token_policies: role.policies,
        ...(role.ttl ? { token_ttl: role.ttl } : {}),
        ...(role.maxTtl ? { token_max_ttl: role.maxTtl } : {}),
        ...(role.audience ? { audience: role.audience } : {}),
      },
      signal ? { signal } : {},
    );
  }

  /** Idempotent: a role (or its whole auth mount) already gone is not an error. */
  async kubernetesRoleDelete(mount: string, name: string, signal?: AbortSignal): Promise<void> {
    await this.request('DELETE', `auth/${mount}/role/${name}`, undefined, {
      ...(signal ? { signal } : {}),
      okStatuses: [404],
    });
  }

  /** Log in with a ServiceAccount JWT; returns the client token. */
  async kubernetesLogin(mount: string, role: string, jwt: string, signal?: AbortSignal): Promise<string> {
    const r = await this.request<{ auth: { client_token: string } }>(
      'POST',
      `auth/${mount}/login`,
      { role, jwt },
      { token: '', ...(signal ? { signal } : {}) },
    );
    const t = r.body?.auth.client_token;
    if (!t) throw new LabError('E_VAULT', `vault login at auth/${mount} returned no token`);
    return t;
  }

  /**
   * GET /sys/health; never throws on 429/472/473/501/503 (they are states, not errors). node-vault hands back
   * sys/health's body whatever the status, so `httpStatus` is the status Vault documents for that body.
   */
  async health(signal?: AbortSignal): Promise<HealthStatus> {
    const r = await this.request<{
      initialized?: boolean;
      sealed?: boolean;
      standby?: boolean;
      performance_standby?: boolean;
      version?: string;
    }>('GET', 'sys/health', undefined, { token: '', ...(signal ? { signal } : {}) });
    const b = r.body && typeof r.body === 'object' ? r.body : undefined;
    if (!b || typeof b.initialized !== 'boolean')
      throw new VaultRequestError('GET', 'sys/health', 0, ['the answer is not a Vault health status']);
    const sealed = b.sealed ?? false;
    const standby = b.standby ?? false;
    return {
      initialized: b.initialized,
      sealed,
      standby,
      ...(b.version ? { version: b.version } : {}),
      httpStatus: !b.initialized ? 501 : sealed ? 503 : b.performance_standby ? 473 : standby ? 429 : 200,
    };
  }

  async seal(signal?: AbortSignal): Promise<void> {
    await this.request('PUT', 'sys/seal', undefined, signal ? { signal } : {});
  }

  /** Submit one unseal key share; returns whether Vault is still sealed. */
  async unseal(key: string, signal?: AbortSignal): Promise<{ sealed: boolean; progress: number }> {
    const r = await this.request<{ sealed: boolean; progress: number }>(
      'PUT',
      'sys/unseal',
      { key },
      { token: '', ...(signal ? { signal } : {}) },
    );
    return { sealed: r.body?.sealed ?? true, progress: r.body?.progress ?? 0 };
  }

  async tokenLookupSelf(signal?: AbortSignal): Promise<TokenInfo> {
    const r = await this.request<{
      data: { policies: string[]; ttl: number; display_name?: string; meta?: Record<string, string> | null };
    }>('GET', 'auth/token/lookup-self', undefined, signal ? { signal } : {});
    const d = r.body?.data;
    return {
      policies: d?.policies ?? [],
      ttl: d?.ttl ?? 0,
      ...(d?.display_name ? { displayName: d.display_name } : {}),
      ...(d?.meta ? { meta: d.meta } : {}),
    };
  }
}

/** `secret/my-app/config` or `my-app/config` → `my-app/config` (when the mount is `secret`). */
export function stripMount(path: string, mount: string): string {
  const p = path.replace(/^\/+/, '');
  if (p.startsWith(`${mount}/data/`)) return p.slice(mount.length + 6);
  if (p.startsWith(`${mount}/`)) return p.slice(mount.length + 1);
  return p;
}
