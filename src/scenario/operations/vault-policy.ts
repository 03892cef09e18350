/** `vaultPolicy` and `vaultRole`: the tutorial's policy and role steps on their own. */
import { z } from 'zod';
import { configureKubernetesAuth, ensureAuthDelegator, policyRules } from '../../tutorial/vault-setup.ts';
import type { Handler } from './common.ts';
import { policySchema, roleSchema } from './vault-setup.ts';

type PolicyArgs = z.infer<typeof policySchema>;

export const vaultPolicyOperation: Handler<PolicyArgs> = {
  name: 'vaultPolicy',
  description: 'Write an ACL policy (HCL `rules`, or `read` access to KV paths).',
  timeoutKind: 'vault',
  schema: policySchema,
  summarize: (a) => `vault policy ${a.name}${a.read ? ` (read ${a.read.join(', ')})` : ''}`,
  async run(ctx, a) {
    const vault = ctx.runtime.vault;
    await vault.policyWrite(a.name, policyRules(a, vault.kvMount), ctx.signal);
    ctx.addCleanup(`vault: delete policy ${a.name}`, (s) => vault.policyDelete(a.name, s));
  },
};

const roleArgs = roleSchema
  .extend({
    authPath: z.string().min(1).optional().describe('Kubernetes auth mount (default "kubernetes")'),
    configureAuth: z
      .boolean()
      .optional()
      .describe('Also enable and configure the Kubernetes auth method from the lab (default true)'),
  })
  .strict();
type RoleArgs = z.infer<typeof roleArgs>;

export const vaultRoleOperation: Handler<RoleArgs> = {
  name: 'vaultRole',
  description:
    'Write a Kubernetes auth role (enabling and configuring the auth method first unless configureAuth is false).',
  timeoutKind: 'vault',
  schema: roleArgs,
  summarize: (a) => `vault role ${a.name} → ${a.namespace}/${a.serviceAccount} (${a.policies.join(', ')})`,
  async run(ctx, a) {
    const rt = ctx.runtime;
    const mount = (a.authPath ?? 'kubernetes').replace(/^\/+|\/+$/g, '');
    if (a.configureAuth !== false) {
      const state = await configureKubernetesAuth(rt.vault, rt.lab.connection, mount, ctx.signal);
      if (state === 'enabled')
        ctx.addCleanup(`vault: disable auth ${mount}/`, (s) => rt.vault.authDisable(mount, s));
    }
    await rt.vault.kubernetesRoleWrite(
      mount,
      a.name,
      {
        boundServiceAccountNames: [a.serviceAccount],
        boundServiceAccountNamespaces: [a.namespace],
        policies: a.policies,
        ...(a.ttl ? { ttl: a.ttl } : {}),
        ...(a.maxTtl ? { maxTtl: a.maxTtl } : {}),
      },
      ctx.signal,
    );
    ctx.addCleanup(`vault: delete role ${mount}/${a.name}`, (s) =>
      rt.vault.kubernetesRoleDelete(mount, a.name, s),
    );
    if (rt.lab.connection.vault.outsideCluster) {
      const b = await ensureAuthDelegator(
        rt.kube,
        a.namespace,
        a.serviceAccount,
        rt.lab.connection.isolation.runId,
      );
      ctx.addCleanup(`delete ClusterRoleBinding ${b.name}`, b.undo);
    }
    rt.roles.push({
      mount,
      name: a.name,
      serviceAccount: a.serviceAccount,
      namespace: a.namespace,
      policies: a.policies,
    });
  },
};
