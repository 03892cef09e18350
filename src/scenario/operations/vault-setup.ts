/** `vaultSetup`: the tutorial's Vault side in one operation (secret, policy, Kubernetes auth, role). */
import { z } from 'zod';
import { tutorialSetup } from '../../tutorial/vault-setup.ts';
import { k8sNameSchema, namespaceSchema, vaultPathSchema, type Handler } from './common.ts';
import { mark } from './marks.ts';
import { dataValueSchema, describeDataShape, resolveData } from './values.ts';

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
      .describe('KV paths to grant read on (e.g. "my-app/config" → secret/data/my-app/config)'),
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

const schema = z
  .object({
    secret: z
      .object({
        path: vaultPathSchema,
        data: z
          .record(z.string().min(1), dataValueSchema)
          .describe('Keys and values (literal or `{ random: true }`)'),
      })
      .strict()
      .describe('The KV v2 secret to write'),
    policy: policySchema,
    auth: z
      .object({ path: z.string().min(1).optional().describe('Auth mount path (default "kubernetes")') })
      .strict()
      .optional()
      .describe('Kubernetes auth method'),
    role: roleSchema,
  })
  .strict()
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
    const data = resolveData(a.secret.data);
    const result = await tutorialSetup(
      rt.vault,
      rt.kube,
      rt.lab.connection,
      {
        secret: { path: a.secret.path, data },
        policy: a.policy,
        ...(a.auth ? { auth: a.auth } : {}),
        role: a.role,
      },
      ctx.signal,
    );
    for (const step of result.created) ctx.addCleanup(step.description, step.undo);
    rt.vaultState.recordWrite(a.secret.path, 'put', data, result.write);
    mark(rt, 'vaultSetup');
    rt.roles.push({
      mount: result.authPath,
      name: a.role.name,
      serviceAccount: a.role.serviceAccount,
      namespace: a.role.namespace,
      policies: a.role.policies,
    });
    return {
      facts: {
        kvVersion: result.write.version,
        ...(result.clusterRoleBinding ? { clusterRoleBinding: result.clusterRoleBinding } : {}),
      },
    };
  },
};
