/**
 * A small Vault (OpenBao) HTTP client over `fetch`: only the endpoints the lab needs, with errors that name the
 * method, path, status and Vault's own `errors` list. Tokens and values never appear in error text.
 */
import { LabError, abortError } from '../errors.ts';

export interface VaultClientOptions {
  address: string;
  token: string;
  /** KV v2 mount, `secret` on dev servers. */
  kvMount?: string;
  /** Per-request timeout (also bounded by the caller's signal). */
  requestTimeoutMs?: number;
  fetch?: typeof fetch;
}

/** Vault answered with a non-2xx status (or could not be reached: status 0). */
export class VaultRequestError extends LabError {
  override readonly name = 'VaultRequestError';
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly errors: readonly string[];
  constructor(method: string, path: string, status: number, errors: readonly string[], cause?: unknown) {
    const why = status === 0 ? 'unreachable' : `HTTP ${status}`;
    const detail = errors.length ? `: ${errors.join('; ')}` : '';
    super('E_VAULT', `vault ${method} ${path}: ${why}${detail}`, cause === undefined ? {} : { cause });
    this.method = method;
    this.path = path;
    this.status = status;
    this.errors = errors;
  }

  get permissionDenied(): boolean {
    return this.status === 403;
  }
  get sealed(): boolean {
    return this.status === 503 || this.errors.some((e) => /sealed/i.test(e));
  }
  get unreachable(): boolean {
    return this.status === 0;
  }
}

export interface KvMetadata {
  currentVersion: number;
  oldestVersion: number;
  createdTime?: string;
  updatedTime?: string;
  versions: Record<string, { created_time: string; deletion_time: string; destroyed: boolean }>;
}

export interface KvWriteResult {
  version: number;
  createdTime: string;
  /** `Date.now()` right after Vault's HTTP response arrived. */
  ackAt: number;
}

export interface KvReadResult {
  data: Record<string, string>;
  version: number;
  createdTime: string;
}

export interface HealthStatus {
  initialized: boolean;
  sealed: boolean;
  standby: boolean;
  version?: string;
  /** HTTP status of /sys/health (200 active, 429 standby, 501 not initialised, 503 sealed). */
  httpStatus: number;
}

export interface TokenInfo {
  policies: string[];
  ttl: number;
  displayName?: string;
  meta?: Record<string, string>;
}

export interface KubernetesAuthConfig {
  kubernetesHost: string;
  kubernetesCaCert?: string;
  disableLocalCaJwt?: boolean;
  tokenReviewerJwt?: string;
}

export interface KubernetesRole {
  boundServiceAccountNames: string[];
  boundServiceAccountNamespaces: string[];
  policies: string[];
  ttl?: string;
  /** token_max_ttl: the token cannot be renewed beyond this. */
  maxTtl?: string;
  audience?: string;
}

export interface RequestOptions {
  signal?: AbortSignal;
  /** Statuses that are not errors for this call (e.g. 404 on a read that may miss). */
  okStatuses?: number[];
  /** Use this token instead of the client's. */
  token?: string;
}

interface Response<T> {
  status: number;
  body: T | undefined;
  at: number;
}

export class VaultClient {
  readonly address: string;
  readonly kvMount: string;
  private readonly token: string;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;

  constructor(options: VaultClientOptions) {
    this.address = options.address.replace(/\/+$/, '');
    this.token = options.token;
    this.kvMount = (options.kvMount ?? 'secret').replace(/^\/+|\/+$/g, '');
    this.timeoutMs = options.requestTimeoutMs ?? 10_000;
    this.fetchFn = options.fetch ?? fetch;
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

  /** Low-level request. `path` is relative to `/v1/`. */
  async request<T = Record<string, unknown>>(
    method: 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE' | 'LIST',
    path: string,
    body?: unknown,
    options: RequestOptions = {},
  ): Promise<Response<T>> {
    const cleanPath = path.replace(/^\/+/, '');
    const headers: Record<string, string> = {};
    const token = options.token ?? this.token;
    if (token) headers['X-Vault-Token'] = token;
    if (body !== undefined)
      headers['Content-Type'] = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
    const signals = [AbortSignal.timeout(this.timeoutMs)];
    if (options.signal) signals.push(options.signal);
    let res: globalThis.Response;
    try {
      res = await this.fetchFn(`${this.address}/v1/${cleanPath}`, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.any(signals),
      });
    } catch (e) {
      if (options.signal?.aborted) throw abortError(options.signal);
      const msg = e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e);
      throw new VaultRequestError(method, cleanPath, 0, [msg], e);
    }
    const at = Date.now();
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    const okStatus = res.status >= 200 && res.status < 300;
    if (!okStatus && !(options.okStatuses ?? []).includes(res.status)) {
      const errors =
        parsed && typeof parsed === 'object' && Array.isArray((parsed as { errors?: unknown }).errors)
          ? ((parsed as { errors: unknown[] }).errors.map(String) as string[])
          : text
            ? [text.slice(0, 200)]
            : [];
      throw new VaultRequestError(method, cleanPath, res.status, errors);
    }
    return { status: res.status, body: parsed as T | undefined, at };
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

  /** GET /sys/health; never throws on 429/472/473/501/503 (they are states, not errors). */
  async health(signal?: AbortSignal): Promise<HealthStatus> {
    const r = await this.request<{
      initialized: boolean;
      sealed: boolean;
      standby: boolean;
      version?: string;
    }>('GET', 'sys/health', undefined, {
      token: '',
      okStatuses: [429, 472, 473, 501, 503],
      ...(signal ? { signal } : {}),
    });
    return {
      initialized: r.body?.initialized ?? false,
      sealed: r.body?.sealed ?? r.status === 503,
      standby: r.body?.standby ?? false,
      ...(r.body?.version ? { version: r.body.version } : {}),
      httpStatus: r.status,
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
