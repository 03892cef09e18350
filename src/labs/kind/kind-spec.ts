/**
 * What the kind provider runs, as data: cluster and release names, the `helm` command lines, and the one manifest
 * it applies itself (a server-side dry-run of a SecretStore, ESO's webhook readiness gate). Pure functions, so
 * unit tests, `--dry-run` and the e2e manifest check all see exactly what `up` runs.
 */
import { join } from 'node:path';
import { stringify } from 'yaml';
import { repoRoot } from '../../paths.ts';
import { kindPins } from '../../components/versions.ts';

export const DEFAULT_CLUSTER_NAME = 'vault-eso-lab';

export const VAULT_RELEASE = 'hashicorp-vault';
export const VAULT_NAMESPACE = 'hashicorp-vault';
/** The tutorial's SecretStore `server:` works unchanged because of the release and namespace names. */
export const VAULT_IN_CLUSTER_URL = `http://${VAULT_RELEASE}.${VAULT_NAMESPACE}.svc.cluster.local:8200`;
/** helm-values/vault.yaml `server.service.nodePort`, mapped to 127.0.0.1 by kind/cluster.yaml. */
export const VAULT_NODE_PORT = 30820;
export const ESO_RELEASE = 'external-secrets';
export const ESO_NAMESPACE = 'external-secrets';
/** How Vault in a pod reaches the API server (the tutorial's `kubernetes_host`). */
export const IN_CLUSTER_KUBERNETES_HOST = 'https://kubernetes.default.svc:443';
/** Name of the external Vault container on the kind network (`--vault external`). */
export const EXTERNAL_VAULT_NAME_PREFIX = 'vault-eso-lab-vault';

export const kindConfigFile = join(repoRoot, 'kind', 'cluster.yaml');
export const helmValuesDir = join(repoRoot, 'helm-values');

export type VaultPlacement = 'in-cluster' | 'external';

export function parseVaultPlacement(v: string | boolean | undefined): VaultPlacement | undefined {
  if (v === undefined || v === false) return 'in-cluster';
  if (v === 'in-cluster' || v === 'external') return v;
  return undefined;
}

/** kind names its kubeconfig context `kind-<cluster>`. */
export function kindContext(clusterName: string): string {
  return `kind-${clusterName}`;
}

/** A cluster name kind accepts (it becomes a Docker container name and a DNS label). */
export function isValidClusterName(name: string): boolean {
  return /^[a-z0-9]([-a-z0-9]{0,48}[a-z0-9])?$/.test(name);
}

export function kindCreateArgs(clusterName: string, kubeconfig: string): string[] {
  return [
    'create',
    'cluster',
    '--name',
    clusterName,
    '--image',
    kindPins.nodeImage,
    '--config',
    kindConfigFile,
    '--kubeconfig',
    kubeconfig,
    '--wait',
    '120s',
  ];
}

interface HelmTarget {
  kubeconfig: string;
  context: string;
}

/** `helm upgrade --install` of Vault in dev mode; the root token goes in with `--set` (random per run). */
export function helmVaultArgs(t: HelmTarget, rootToken: string): string[] {
  const c = kindPins.vaultChart;
  return [
    'upgrade',
    '--install',
    VAULT_RELEASE,
    c.name,
    '--repo',
    c.repo,
    '--version',
    c.version,
    '--namespace',
    VAULT_NAMESPACE,
    '--create-namespace',
    '--values',
    join(helmValuesDir, 'vault.yaml'),
    '--set',
    `server.dev.devRootToken=${rootToken}`,
    '--kubeconfig',
    t.kubeconfig,
    '--kube-context',
    t.context,
    '--wait',
    '--timeout',
    '5m',
  ];
}

export function helmEsoArgs(t: HelmTarget): string[] {
  const c = kindPins.esoChart;
  return [
    'upgrade',
    '--install',
    ESO_RELEASE,
    c.name,
    '--repo',
    c.repo,
    '--version',
    c.version,
    '--namespace',
    ESO_NAMESPACE,
    '--create-namespace',
    '--values',
    join(helmValuesDir, 'external-secrets.yaml'),
    '--kubeconfig',
    t.kubeconfig,
    '--kube-context',
    t.context,
    '--wait',
    '--timeout',
    '5m',
  ];
}

export function kubectlArgs(t: HelmTarget, ...args: string[]): string[] {
  return ['--kubeconfig', t.kubeconfig, '--context', t.context, ...args];
}

/**
 * The SecretStore ESO's validating webhook must accept (server-side dry-run, never persisted) before `up`
 * reports ready: it proves the webhook's certificate is injected and its endpoint serves.
 */
export function webhookProbeManifest(vaultServer: string, namespace = ESO_NAMESPACE): string {
  return stringify({
    apiVersion: 'external-secrets.io/v1',
    kind: 'SecretStore',
    metadata: {
      name: 'vault-eso-lab-webhook-probe',
      namespace,
      labels: { 'app.kubernetes.io/managed-by': 'vault-eso-lab' },
    },
    spec: {
      provider: {
        vault: {
          server: vaultServer,
          path: 'secret',
          version: 'v2',
          auth: { kubernetes: { mountPath: 'kubernetes', role: 'webhook-probe' } },
        },
      },
    },
  });
}

export function webhookProbeArgs(t: HelmTarget): string[] {
  return kubectlArgs(
    t,
    'apply',
    '--server-side',
    '--dry-run=server',
    '--field-manager=vault-eso-lab',
    '-f',
    '-',
  );
}

/** Dev mode prints "Unseal Key: <base64>" once at start. */
export function parseUnsealKey(log: string): string | undefined {
  return [...log.matchAll(/Unseal Key:\s*(\S+)/g)].at(-1)?.[1];
}

/** How long the kind bring-up and faults wait for Vault, ESO's webhook and rollouts. */
export const KIND_TIMEOUTS = {
  vault: 180_000,
  webhook: 180_000,
  rollout: 180_000,
};
