/** Seal and unseal a lab's Vault through its API: the same for every provider that knows the unseal key. */
import { LabError } from '../errors.ts';
import { httpCall, type HttpOptions, type HttpResponse } from './http-call.ts';
import type { LabConnection, LabFaults } from './lab-provider.ts';

export type HttpFn = (url: string, o?: HttpOptions) => Promise<HttpResponse>;

export function sealFaults(
  connection: LabConnection,
  unsealKey: () => string | undefined,
  http: HttpFn = httpCall,
): Pick<LabFaults, 'sealVault' | 'unsealVault'> {
  const call = async (path: string, what: string, signal: AbortSignal, body?: unknown) => {
    const r = await http(`${connection.vault.address}/v1/${path}`, {
      method: 'PUT',
      headers: { 'x-vault-token': connection.vault.token },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
    if (r.status >= 300) throw new LabError('E_VAULT', `${what} Vault failed: HTTP ${r.status}`);
  };
  return {
    sealVault: (signal) => call('sys/seal', 'sealing', signal),
    unsealVault: (signal) => {
      const key = unsealKey();
      if (!key) return Promise.reject(new LabError('E_VAULT', 'no unseal key recorded for this lab'));
      return call('sys/unseal', 'unsealing', signal, { key });
    },
  };
}
