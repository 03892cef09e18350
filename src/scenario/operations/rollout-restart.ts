/** `rolloutRestart`: what `kubectl rollout restart deployment/X` does, then wait for the rollout to finish. */
import { z } from 'zod';
import { AssertionFailedError, formatMs } from '../../errors.ts';
import { readDeployment, restartDeployment, rolloutComplete } from '../../kube/pods.ts';
import { sleep } from '../../time.ts';
import { budgetMs, duration, k8sNameSchema, namespaceSchema, templated, type Handler } from './common.ts';

const schema = z
  .object({
    namespace: namespaceSchema,
    deployment: k8sNameSchema.describe('Deployment name'),
    within: templated(duration())
      .optional()
      .describe('How long the rollout may take (default: the operation timeout)'),
  })
  .strict()
  .describe('Restart a Deployment and wait for its rollout');
type Args = z.infer<typeof schema>;

export const rolloutRestartOperation: Handler<Args> = {
  name: 'rolloutRestart',
  description:
    'Restart a Deployment (kubectl rollout restart) and wait until the rollout is complete (kind only).',
  timeoutKind: 'apply',
  schema,
  summarize: (a) => `rollout restart deployment ${a.namespace}/${a.deployment}`,
  async run(ctx, a) {
    const kube = ctx.runtime.kube;
    const started = Date.now();
    await restartDeployment(kube, a.namespace, a.deployment);
    const limit = Math.min(a.within ?? Infinity, budgetMs(ctx.timeoutMs));
    for (;;) {
      const d = await readDeployment(kube, a.namespace, a.deployment);
      if (rolloutComplete(d)) return { facts: { rolloutMs: Date.now() - started } };
      if (Date.now() - started >= limit)
        throw new AssertionFailedError(
          `Deployment ${a.namespace}/${a.deployment}: rollout not complete within ${formatMs(limit)}`,
          {
            evidence: [
              `replicas ${d.status?.replicas ?? 0}, updated ${d.status?.updatedReplicas ?? 0}, available ${d.status?.availableReplicas ?? 0}, observedGeneration ${d.status?.observedGeneration ?? 0}/${d.metadata?.generation ?? 0}`,
            ],
          },
        );
      await sleep(500, ctx.signal);
    }
  },
};
