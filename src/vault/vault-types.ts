/** What the Vault client takes and returns: KV v2 versions and metadata, health, tokens, Kubernetes auth. */

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
  /** The status /sys/health answers for this state (200 active, 429 standby, 473 performance standby, 501 not
   * initialised, 503 sealed). */
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

export type VaultMethod = 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE' | 'LIST';

export interface VaultResponse<T> {
  /** 200 with a body, 204 without; a non-2xx status only when the caller listed it in `okStatuses`. */
  status: number;
  body: T | undefined;
  /** `Date.now()` right after Vault's response arrived. */
  at: number;
}
