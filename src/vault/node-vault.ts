/**
 * node-vault, set up for the lab: the fetch transport (AbortSignal, timeout), GET ?list=1 instead of the LIST
 * verb, no debug output (it would print request bodies), and none of node-vault's environment fallbacks
 * (VAULT_TOKEN, VAULT_PREFIX, VAULT_NAMESPACE): a client talks to exactly the server and token it was given.
 */
import type nodeVaultFactory from 'node-vault';
import { fetchTransport } from './fetch-transport.ts';

export type NodeVaultClient = ReturnType<typeof nodeVaultFactory>;

/** node-vault (and axios under it) load on the first Vault request, not with every command that could make one. */
let loading: Promise<typeof nodeVaultFactory> | undefined;
function loadNodeVault(): Promise<typeof nodeVaultFactory> {
  loading ??= import('node-vault').then((m) => m.default);
  loading.catch(() => (loading = undefined));
  return loading;
}

/** node-vault's error for a non-2xx answer (its class is not exported; this is its shape). */
export interface ApiResponseError {
  response: { statusCode: number; body: unknown };
}

export function isApiResponseError(e: unknown): e is ApiResponseError {
  return (
    e instanceof Error &&
    typeof (e as Partial<ApiResponseError>).response?.statusCode === 'number' &&
    'body' in ((e as Partial<ApiResponseError>).response ?? {})
  );
}

export function vaultErrors(body: unknown): string[] {
  if (body && typeof body === 'object' && Array.isArray((body as { errors?: unknown }).errors))
    return (body as { errors: unknown[] }).errors.map(String);
  if (typeof body === 'string' && body) return [body.slice(0, 200)];
  return [];
}

export async function nodeVaultClient(
  address: string,
  token: string,
  fetchFn: typeof fetch,
  timeoutMs: number,
): Promise<NodeVaultClient> {
  const nodeVault = await loadNodeVault();
  const nv = nodeVault({
    endpoint: address,
    token,
    apiVersion: 'v1',
    // GET ?list=1 instead of the LIST verb.
    noCustomHTTPVerbs: true,
    'request-promise': fetchTransport(fetchFn, timeoutMs),
    // node-vault's debug output would print request bodies (secret values) under DEBUG=node-vault.
    debug: () => undefined,
  });
  // node-vault falls back to VAULT_TOKEN / VAULT_PREFIX / VAULT_NAMESPACE from the environment; this client
  // talks to exactly the server and token it was given.
  nv.token = token;
  (nv as { pathPrefix?: string }).pathPrefix = '';
  (nv as { namespace?: string }).namespace = undefined;
  return nv;
}
