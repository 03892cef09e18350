/** Seal and unseal a lab's Vault through its API: the same for every provider that knows the unseal key. */
import { LabError } from '../errors.ts';
import { VaultClient } from '../vault/client.ts';
import type { LabConnection, LabFaults } from './lab-provider.ts';

export function sealFaults(
  vault: VaultClient | LabConnection,
  unsealKey: () => string | undefined,
): Pick<LabFaults, 'sealVault' | 'unsealVault'> {
  const client =
    vault instanceof VaultClient
      ? vault
      : new VaultClient({
          address: vault.vault.address,
          token: vault.vault.token,
          kvMount: vault.vault.kvMount,
        });
  return {
    sealVault: (signal) => client.seal(signal),
    unsealVault: async (signal) => {
      const key = unsealKey();
      if (!key) throw new LabError('E_VAULT', 'no unseal key recorded for this lab');
      const r = await client.unseal(key, signal);
      if (r.sealed)
        throw new LabError('E_VAULT', `Vault is still sealed after the unseal key (progress ${r.progress})`);
    },
  };
}
