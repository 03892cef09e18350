/**
 * The tutorial's Vault side in one call: write the KV v2 secret, the read policy, enable and configure Kubernetes
 * auth, write the role — and, when Vault runs outside the cluster, bind the role's ServiceAccount to
 * `system:auth-delegator` (Vault calls TokenReview with the client's own JWT). Returns undo steps for what it
 * created, newest last, so a caller can register them as cleanups.
 */
import type { LabConnection } from '../labs/lab-provider.ts';
import { applyObject, deleteObject } from '../kube/apply.ts';
import type { KubeClients } from '../kube/client.ts';
import { secrets } from '../secrets/secret-registry.ts';
import { stripMount, type KvWriteResult, type VaultClient } from '../vault/client.ts';

export interface TutorialSetupSpec {
  secret: { path: string; data: Record<string, string> };
  policy: { name: string; rules?: string; read?: string[] };
  auth?: { path?: string };
  role: {
    name: string;
    serviceAccount: string;
    namespace: string;
    policies: string[];
    ttl?: string;
    maxTtl?: string;
  };
}

export interface UndoStep {
  description: string;
  undo: (signal: AbortSignal) => Promise<void>;
}

export interface TutorialSetupResult {
  write: KvWriteResult;
  authPath: string;
  policyRules: string;
  /** Undo steps in creation order (run them in reverse). */
  created: UndoStep[];
  clusterRoleBinding?: string;
}

/** HCL for read access to KV v2 paths: `my-app/config` → `path "secret/data/my-app/config" { ... }`. */
export function readPolicyHcl(paths: readonly string[], kvMount: string): string {
  return paths
    .map((p) => {
      const clean = p.replace(/^\/+/, '');
      const full =
        clean.startsWith(`${kvMount}/data/`) || clean.startsWith(`${kvMount}/metadata/`)
          ? clean
          : `${kvMount}/data/${stripMount(clean, kvMount)}`;
      return `path "${full}" {\n  capabilities = ["read"]\n}\n`;
    })
    .join('\n');
}

export function policyRules(policy: TutorialSetupSpec['policy'], kvMount: string): string {
  if (policy.rules !== undefined) return policy.rules;
  // An empty rule set is valid HCL for "no access": a deliberately useless policy.
  return readPolicyHcl(policy.read ?? [], kvMount) || '# no paths\n';
}

/** Name of the auth-delegator binding for one ServiceAccount (stable, so reruns reuse it). */
export function authDelegatorBindingName(namespace: string, serviceAccount: string): string {
  return `vault-eso-lab-tokenreview-${namespace}-${serviceAccount}`.slice(0, 253);
}

export async function ensureAuthDelegator(
  kube: KubeClients,
  namespace: string,
  serviceAccount: string,
  runId: string,
): Promise<{ name: string; undo: (signal: AbortSignal) => Promise<void> }> {
  const name = authDelegatorBindingName(namespace, serviceAccount);
  const binding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: {
      name,
      labels: { 'app.kubernetes.io/managed-by': 'vault-eso-lab', 'vault-eso-lab/run': runId },
    },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' },
    subjects: [{ kind: 'ServiceAccount', name: serviceAccount, namespace }],
  };
  await applyObject(kube, binding);
  return {
    name,
    undo: async () => {
      await deleteObject(kube, binding);
    },
  };
}

export async function configureKubernetesAuth(
  vault: VaultClient,
  connection: LabConnection,
  authPath: string,
  signal?: AbortSignal,
): Promise<'enabled' | 'existing'> {
  const state = await vault.authEnable(authPath, 'kubernetes', signal);
  const v = connection.vault;
  await vault.kubernetesAuthConfig(
    authPath,
    {
      kubernetesHost: v.kubernetesHostForVault,
      ...(v.kubernetesCaPem ? { kubernetesCaCert: v.kubernetesCaPem } : {}),
      // Outside a pod there is no local CA/JWT to fall back on: TokenReview uses the client's JWT.
      disableLocalCaJwt: v.outsideCluster,
    },
    signal,
  );
  return state;
}

export async function tutorialSetup(
  vault: VaultClient,
  kube: KubeClients,
  connection: LabConnection,
  spec: TutorialSetupSpec,
  signal?: AbortSignal,
): Promise<TutorialSetupResult> {
  const created: UndoStep[] = [];
  const kvMount = connection.vault.kvMount;
  for (const value of Object.values(spec.secret.data)) secrets.add(value);

  const write = await vault.kvPut(spec.secret.path, spec.secret.data, signal);
  created.push({
    description: `vault: delete ${kvMount}/${stripMount(spec.secret.path, kvMount)} (all versions)`,
    undo: (s) => vault.kvDestroyAll(spec.secret.path, s),
  });

  const rules = policyRules(spec.policy, kvMount);
  await vault.policyWrite(spec.policy.name, rules, signal);
  created.push({
    description: `vault: delete policy ${spec.policy.name}`,
    undo: (s) => vault.policyDelete(spec.policy.name, s),
  });

  const authPath = (spec.auth?.path ?? 'kubernetes').replace(/^\/+|\/+$/g, '');
  const enabled = await configureKubernetesAuth(vault, connection, authPath, signal);
  if (enabled === 'enabled')
    created.push({
      description: `vault: disable auth ${authPath}/`,
      undo: (s) => vault.authDisable(authPath, s),
    });

  await vault.kubernetesRoleWrite(
    authPath,
    spec.role.name,
    {
      boundServiceAccountNames: [spec.role.serviceAccount],
      boundServiceAccountNamespaces: [spec.role.namespace],
      policies: spec.role.policies,
      ...(spec.role.ttl ? { ttl: spec.role.ttl } : {}),
      ...(spec.role.maxTtl ? { maxTtl: spec.role.maxTtl } : {}),
    },
    signal,
  );
  created.push({
    description: `vault: delete role ${authPath}/${spec.role.name}`,
    undo: (s) => vault.kubernetesRoleDelete(authPath, spec.role.name, s),
  });

  let clusterRoleBinding: string | undefined;
  if (connection.vault.outsideCluster) {
    const b = await ensureAuthDelegator(
      kube,
      spec.role.namespace,
      spec.role.serviceAccount,
      connection.isolation.runId,
    );
    clusterRoleBinding = b.name;
    created.push({ description: `delete ClusterRoleBinding ${b.name}`, undo: b.undo });
  }
  return {
    write,
    authPath,
    policyRules: rules,
    created,
    ...(clusterRoleBinding ? { clusterRoleBinding } : {}),
  };
}
