/** Fault injection: each operation calls the lab's own fault hook (a provider that cannot do it says so). */
import type { LabFaults } from '../../labs/lab-provider.ts';
import { emptySchema, type Handler } from './common.ts';
import { mark } from './marks.ts';

type FaultName = keyof LabFaults;

function fault(name: FaultName, description: string): Handler<Record<string, never>> {
  return {
    name,
    description,
    timeoutKind: 'fault',
    schema: emptySchema.describe(description),
    summarize: () => name,
    async run(ctx) {
      await ctx.runtime.lab.faults[name](ctx.signal);
      mark(ctx.runtime, name);
    },
  };
}

export const sealVaultOperation = fault(
  'sealVault',
  'Seal Vault (ESO reads then fail with "Vault is sealed").',
);
export const unsealVaultOperation = fault('unsealVault', "Unseal Vault with the lab's unseal key.");
export const stopVaultOperation = fault('stopVault', 'Stop the Vault server (connection refused for ESO).');
export const startVaultOperation = fault(
  'startVault',
  'Start the Vault server again (dev mode keeps no data: re-seed it afterwards).',
);
export const restartEsoOperation = fault('restartEso', 'Restart the External Secrets Operator.');
