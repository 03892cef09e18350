/**
 * `vaultSetup`: the tutorial's Vault side in one operation (secret, policy, Kubernetes auth, role) — on the lab's
 * KV v2 mount, or on a KV mount of the scenario's choice (`mount: { path, version }`, enabled here and disabled
 * at cleanup), with JSON values and KV v2 custom_metadata when the scenario gives them.
 */
import { z } from 'zod';
import { stripMount } from '../../vault/client.ts';
import {
  disableMount,
  enableKvMount,
  kvApiPath,
  kvDestroy,
  kvWrite,
  kvWriteCustomMetadata,
  type KvLocation,
} from '../../vault/kv-engine.ts';
import {
  configureKubernetesAuth,
  ensureAuthDelegator,
  policyRules,
  type UndoStep,
} from '../../tutorial/vault-setup.ts';
import { k8sNameSchema, namespaceSchema, vaultPathSchema, type Handler } from './common.ts';
import { mark } from './marks.ts';
import {
  customMetadataSchema,
  describeDataShape,
  resolveVaultData,
  vaultSecretDataSchema,
} from './values.ts';

const vaultName = z
  .string()
  .min(1)
  .regex(/^[A-Za-z0-9_.${}-]+$/, 'letters, digits, "-", "_", "."');

export const policySchema = z
  .object({
    name: vaultName.describe('Policy name'),
    rules: z.string().optional().describe('Policy HCL, verbatim'),
    read: z
      .array(z.string().min(1))
      .optional()
      .describe(
        'KV paths to grant read on, in the setup\'s mount (e.g. "my-app/config" → secret/data/my-app/config; on a KV v1 mount kv1/my-app/config)',
      ),
  })
  .strict()
  .refine((p) => !(p.rules !== undefined && p.read !== undefined), {
    message: 'give `rules` or `read`, not both',
  })
  .describe('An ACL policy: `rules` (HCL) or `read` (paths)');

export const roleSchema = z
  .object({
    name: vaultName.describe('Role name'),
    serviceAccount: k8sNameSchema.describe('Bound ServiceAccount name'),
    namespace: namespaceSchema.describe('Bound ServiceAccount namespace'),
    policies: z.array(vaultName).min(1).describe('Token policies'),
    ttl: z.string().optional().describe('Token TTL, e.g. "24h"'),
    maxTtl: z.string().optional().describe('Token max TTL (token_max_ttl), e.g. "10s"'),
  })
  .strict()
  .describe('A Kubernetes auth role');

export const mountSchema = z
  .object({
    path: z
      .string()
      .min(1)
      .regex(
        /^[A-Za-z0-9_.${}-]+(?:\/[A-Za-z0-9_.${}-]+)*$/,
        'a mount path: letters, digits, "-", "_", ".", "/"',
      )
      .describe('Mount path, e.g. "kv1" (enabled by the scenario, disabled at cleanup)'),
    version: z.union([z.literal(1), z.literal(2)]).describe('KV engine version: 1 or 2'),
  })
  .strict()
  .describe("A KV mount of the scenario's own (default: the lab's KV v2 mount, usually `secret`)");

const schema = z
  .object({
    mount: mountSchema.optional(),
    secret: z
      .object({
        path: vaultPathSchema,
        data: vaultSecretDataSchema,
        customMetadata: customMetadataSchema,
      })
      .strict()
      .describe('The KV secret to write'),
    policy: policySchema,
    auth: z
      .object({ path: z.string().min(1).optional().describe('Auth mount path (default "kubernetes")') })
      .strict()
      .optional()
      .describe('Kubernetes auth method'),
    role: roleSchema,
  })
  .strict()
  .refine((a) => !(a.secret.customMetadata && a.mount?.version === 1), {
    message: '`customMetadata` needs a KV version 2 mount',
    path: ['secret', 'customMetadata'],
  })
  .describe("The tutorial's Vault setup in one block");
type Args = z.infer<typeof schema>;

export const vaultSetupOperation: Handler<Args> = {
  name: 'vaultSetup',
  description:
    'Write a KV v2 secret, a policy, enable and configure Kubernetes auth, and write a role (plus the auth-delegator binding when Vault runs outside the cluster).',
  timeoutKind: 'vault',
  schema,
  summarize: (a) =>
    `vault setup: ${a.secret.path} (${describeDataShape(a.secret.data)}), policy ${a.policy.name}, role ${a.role.name} → ${a.role.namespace}/${a.role.serviceAccount}`,
  async run(ctx, a) {
    const rt = ctx.runtime;
    const conn = rt.lab.connection;
    // Each undo is registered as soon as its thing exists, so a failure half-way still cleans up.
    const created = { push: (step: UndoStep) => ctx.addCleanup(step.description, step.undo) };
    const { write: data, model } = resolveVaultData(a.secret.data);

    // The secret, on the lab's mount or the scenario's own.
    const mount = a.mount ? a.mount.path.replace(/^\/+|\/+$/g, '') : conn.vault.kvMount;
    const version = a.mount?.version ?? 2;
    if (a.mount && (await enableKvMount(rt.vault, mount, version, ctx.signal)) === 'enabled')
      created.push({
        description: `vault: disable mount ${mount}/`,
        undo: (s) => disableMount(rt.vault, mount, s),
      });
    const loc: KvLocation = { mount, version, path: stripMount(a.secret.path, mount) };
    const ack = await kvWrite(rt.vault, loc, data, ctx.signal);
    created.push({
      description: `vault: delete ${kvApiPath(loc, version === 2 ? 'metadata' : 'data')}${version === 2 ? ' (all versions)' : ''}`,
      undo: (s) => kvDestroy(rt.vault, loc, s),
    });
    if (a.secret.customMetadata)
      await kvWriteCustomMetadata(rt.vault, loc, a.secret.customMetadata, ctx.signal);

    // Policy, Kubernetes auth, role.
    const rules =
      a.policy.rules ??
      (a.mount
        ? (a.policy.read ?? [])
            .map(
              (p) =>
                `path "${kvApiPath({ mount, version, path: stripMount(p, mount) })}" {\n  capabilities = ["read"]\n}\n`,
            )
            .join('\n') || '# no paths\n'
        : policyRules(a.policy, mount));
    await rt.vault.policyWrite(a.policy.name, rules, ctx.signal);
    created.push({
      description: `vault: delete policy ${a.policy.name}`,
      undo: (s) => rt.vault.policyDelete(a.policy.name, s),
    });
    const authPath = (a.auth?.path ?? 'kubernetes').replace(/^\/+|\/+$/g, '');
    if ((await configureKubernetesAuth(rt.vault, conn, authPath, ctx.signal)) === 'enabled')
      created.push({
        description: `vault: disable auth ${authPath}/`,
        undo: (s) => rt.vault.authDisable(authPath, s),
      });
    await rt.vault.kubernetesRoleWrite(
      authPath,
      a.role.name,
      {
        boundServiceAccountNames: [a.role.serviceAccount],
        boundServiceAccountNamespaces: [a.role.namespace],
        policies: a.role.policies,
        ...(a.role.ttl ? { ttl: a.role.ttl } : {}),
        ...(a.role.maxTtl ? { maxTtl: a.role.maxTtl } : {}),
      },
      ctx.signal,
    );
    created.push({
      description: `vault: delete role ${authPath}/${a.role.name}`,
      undo: (s) => rt.vault.kubernetesRoleDelete(authPath, a.role.name, s),
    });
    let clusterRoleBinding: string | undefined;
    if (conn.vault.outsideCluster) {
      const b = await ensureAuthDelegator(
        rt.kube,
        a.role.namespace,
        a.role.serviceAccount,
        conn.isolation.runId,
      );
      clusterRoleBinding = b.name;
      created.push({ description: `delete ClusterRoleBinding ${b.name}`, undo: b.undo });
    }

    // The expected model: paths on the lab's mount as written (`my-app/config`), others with their mount.
    const modelPath = a.mount ? `${mount}/${loc.path}` : a.secret.path;
    rt.vaultState.recordWrite(modelPath, 'put', model, ack);
    mark(rt, 'vaultSetup');
    rt.roles.push({
      mount: authPath,
      name: a.role.name,
      serviceAccount: a.role.serviceAccount,
      namespace: a.role.namespace,
      policies: a.role.policies,
    });
    return {
      facts: {
        secretVersion: ack.version,
        ...(a.mount ? { mount: `${mount}/ (KV v${version})` } : {}),
        ...(clusterRoleBinding ? { clusterRoleBinding } : {}),
      },
    };
  },
};
