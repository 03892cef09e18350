/**
 * Command lines for the Vault dev server (OpenBao's `bao` or HashiCorp Vault's `vault`: the same dev-mode flags)
 * and the ESO controller. The root token reaches the server through its environment (not argv, which any local
 * user can read with `ps`); ESO gets an explicit KUBECONFIG and no VAULT_* / BAO_* variable at all (with
 * VAULT_TOKEN set, ESO would skip Kubernetes auth and revoke that token).
 */
import type { VaultServerName } from '../vault-server.ts';

export function vaultArgs(port: number): string[] {
  return [
    'server',
    '-dev',
    `-dev-listen-address=127.0.0.1:${port}`,
    '-dev-no-store-token',
    '-log-level=info',
  ];
}

export function vaultEnv(
  base: Record<string, string>,
  rootToken: string,
  server: VaultServerName = 'openbao',
): Record<string, string> {
  // HashiCorp Vault reads only VAULT_*; its dev mode already disables mlock (dev config `disable_mlock = true`).
  if (server === 'hashicorp') return { ...base, VAULT_DEV_ROOT_TOKEN_ID: rootToken };
  return {
    ...base,
    BAO_DEV_ROOT_TOKEN_ID: rootToken,
    VAULT_DEV_ROOT_TOKEN_ID: rootToken,
    BAO_DISABLE_MLOCK: 'true',
  };
}

/** ESO's reconcile workers (`--concurrent`; the chart's default is 1, the kind lab's values say 4 too). */
export const ESO_WORKERS = 4;

export function esoArgs(healthPort: number): string[] {
  return [
    '--metrics-addr=0',
    `--live-addr=127.0.0.1:${healthPort}`,
    '--enable-leader-election=false',
    `--concurrent=${ESO_WORKERS}`,
    '--enable-push-secret-reconciler=false',
    '--enable-cluster-external-secret-reconciler=false',
    '--enable-cluster-push-secret-reconciler=false',
    // Debug lines show a reconcile that found nothing to refresh ("skipping refresh"): esoSettled waits for it.
    '--loglevel=debug',
  ];
}

/** ESO's environment: explicit KUBECONFIG, nothing Vault-related. */
export function esoEnv(base: Record<string, string>, kubeconfig: string): Record<string, string> {
  const env: Record<string, string> = { ...base, KUBECONFIG: kubeconfig };
  for (const k of Object.keys(env)) if (/^(VAULT|BAO)_/.test(k)) delete env[k];
  return env;
}
