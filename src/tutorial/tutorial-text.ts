/**
 * The tutorial's commands and YAML blocks, byte for byte as printed (trailing spaces included), in its order.
 * The walkthrough runs exactly these; where they cannot work as printed it shows what happens, then the smallest fix.
 * Source: the tutorial text (in this workspace ../shared/seed/vault-eso-tutorial.txt; a unit test checks these
 * against it whenever it is present).
 */

/** "First create your secret!" */
export const KV_PUT = [
  'vault kv put secret/my-app/config \\',
  '    username="placeholder" \\',
  '    password="placeholder" \\',
  '    api_key="placeholder"',
].join('\n');

/** "Then create your access policy": a file, whose first line is a comment naming it. */
export const POLICY_HCL = [
  '# policy.hcl',
  'path "secret/data/my-app/config" {',
  '  capabilities = ["read"]',
  '}',
].join('\n');

export const POLICY_WRITE = 'vault policy write my-app-read policy.hcl';

/** "Then configure Vault’s Kubernetes auth" */
export const AUTH_ENABLE = 'vault auth enable kubernetes # you only have to do this once';

/** Line 1 has a `# comment` after its backslash; line 2 ends in a space. */
export const AUTH_CONFIG = [
  'vault write auth/kubernetes/config \\  # you only have to do this once',
  '  kubernetes_host="https://kubernetes.default.svc:443" ',
].join('\n');

/** Line 1 has a `# comment` after its backslash (and ends in a space). */
export const ROLE_WRITE = [
  'vault write auth/kubernetes/role/my-app-role \\ # do this for each secret ',
  '  bound_service_account_names="my-app-sa" \\',
  '  bound_service_account_namespaces="my-app" \\',
  '  policies="my-app-read" \\',
  '  ttl="1h"',
].join('\n');

/** "Then create your SecretStore" */
export const SECRET_STORE_YAML = [
  'apiVersion: external-secrets.io/v1',
  'kind: SecretStore',
  'metadata:',
  '  name: vault-backend',
  '  namespace: my-app',
  'spec:',
  '  provider:',
  '    vault:',
  '      server: "http://hashicorp-vault.hashicorp-vault.svc.cluster.local:8200"',
  '      path: "secret"',
  '      version: "v2"',
  '      auth:',
  '        kubernetes:',
  '          mountPath: "kubernetes"',
  '          role: "my-app-role"',
  '          serviceAccountRef:',
  '            name: "my-app-sa"',
].join('\n');

/** "And pull the secret!" */
export const EXTERNAL_SECRET_YAML = [
  'apiVersion: external-secrets.io/v1',
  'kind: ExternalSecret',
  'metadata:',
  '  name: my-app-secrets',
  '  namespace: my-app',
  'spec:',
  '  refreshInterval: "1h"',
  '  secretStoreRef:',
  '    name: vault-backend',
  '    kind: SecretStore',
  '  target:',
  '    name: my-app-user-password',
  '    creationPolicy: Owner',
  '  data:',
  '    - secretKey: username',
  '      remoteRef:',
  '        key: my-app/config',
  '        property: username',
  '    - secretKey: password',
  '      remoteRef:',
  '        key: my-app/config',
  '        property: password',
].join('\n');

/** Every block, in the tutorial's order. */
export const TUTORIAL_BLOCKS: readonly string[] = [
  KV_PUT,
  POLICY_HCL,
  POLICY_WRITE,
  AUTH_ENABLE,
  AUTH_CONFIG,
  ROLE_WRITE,
  SECRET_STORE_YAML,
  EXTERNAL_SECRET_YAML,
];
