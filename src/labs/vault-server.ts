/**
 * Which Vault server a lab runs: OpenBao (the default, MPL-2.0) or HashiCorp Vault (the tutorial's own server,
 * BUSL-1.1). Both take the same dev-mode flags and serve the same API; their error texts differ.
 * The local lab builds and runs either (`--vault-server`); the kind lab always runs HashiCorp Vault (its Helm chart).
 */
import { UsageError } from '../errors.ts';
import { components, type ComponentName, type ComponentPin } from '../components/versions.ts';
import type { ProviderName } from './lab-provider.ts';

export type VaultServerName = 'openbao' | 'hashicorp';

export const DEFAULT_VAULT_SERVER: VaultServerName = 'openbao';

export interface VaultServer {
  name: VaultServerName;
  /** Human name for progress lines and docs. */
  label: string;
  /** The component pin (and the component's name in lab.json, status and logs). */
  component: ComponentName;
  pin: ComponentPin;
  /** The binary in the component's cache directory; the lab's `vault` link points at it. */
  binary: string;
}

const servers: Record<VaultServerName, VaultServer> = {
  openbao: {
    name: 'openbao',
    label: 'OpenBao',
    component: 'openbao',
    pin: components.openbao,
    binary: 'bao',
  },
  hashicorp: {
    name: 'hashicorp',
    label: 'HashiCorp Vault',
    component: 'hashicorp-vault',
    pin: components['hashicorp-vault'],
    binary: 'vault',
  },
};

export function vaultServer(name: VaultServerName = DEFAULT_VAULT_SERVER): VaultServer {
  return servers[name];
}

/** `--vault-server`: undefined when not given (a running lab of either server is then used). */
export function parseVaultServer(value: string | undefined): VaultServerName | undefined {
  if (value === undefined) return undefined;
  if (value === 'openbao' || value === 'hashicorp') return value;
  throw new UsageError(`--vault-server must be one of hashicorp, openbao (got '${value}')`);
}

/**
 * The server a recorded lab runs: local labs record it (labs from before the option ran OpenBao); kind runs
 * HashiCorp Vault from its chart; an existing cluster's Vault is unknown.
 */
export function recordedVaultServer(record: {
  provider: ProviderName;
  vaultServer?: VaultServerName;
}): VaultServerName | undefined {
  if (record.vaultServer) return record.vaultServer;
  if (record.provider === 'local') return 'openbao';
  if (record.provider === 'kind') return 'hashicorp';
  return undefined;
}

/** Refuse `--vault-server` where the provider cannot honour it (before anything starts). */
export function checkVaultServerForProvider(
  provider: ProviderName,
  server: VaultServerName | undefined,
): void {
  if (server === undefined || provider === 'local') return;
  if (provider === 'kind' && server === 'hashicorp') return;
  throw new UsageError(
    provider === 'kind'
      ? '--vault-server openbao is not available on the kind provider: it runs HashiCorp Vault from its Helm chart'
      : '--vault-server applies to the local lab: on an existing cluster the Vault server is yours (VAULT_ADDR)',
    { hint: '--provider local --vault-server openbao|hashicorp' },
  );
}
