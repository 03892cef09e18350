/**
 * `reloadOnChange`: the fix users deploy for env-var consumers — what stakater/Reloader does, done by the harness
 * (the Go module proxy refuses Reloader itself). From this operation on, every change of the Secret's data writes a
 * hash of that data into the Deployments' pod template (annotation `vault-eso-lab.io/secret-hash`), so the
 * Deployment controller rolls out new pods, which read the new value at start. Stops with the scenario.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { errorMessage } from '../../errors.ts';
import { patchPodTemplateAnnotations } from '../../kube/pods.ts';
import { k8sNameSchema, namespaceSchema, type Handler } from './common.ts';

export const RELOAD_ANNOTATION = 'vault-eso-lab.io/secret-hash';

/** Reloader's idea of "the Secret changed": a hash over the data's keys and values, in key order. */
export function dataHash(data: Record<string, string>): string {
  const h = createHash('sha256');
  for (const k of Object.keys(data).sort()) h.update(`${k}\0${data[k]}\0`);
  return h.digest('hex').slice(0, 16);
}

const schema = z
  .object({
    namespace: namespaceSchema,
    secret: k8sNameSchema.describe('The Secret to follow'),
    deployments: z.array(k8sNameSchema).min(1).describe('Deployments to roll out when its data changes'),
  })
  .strict()
  .describe('Roll out Deployments whenever a Secret changes (Reloader-style)');
type Args = z.infer<typeof schema>;

export const reloadOnChangeOperation: Handler<Args> = {
  name: 'reloadOnChange',
  description:
    "From now on, roll out the Deployments whenever the Secret's data changes (a hash in the pod template, as stakater/Reloader does).",
  timeoutKind: 'apply',
  schema,
  summarize: (a) => `reload ${a.deployments.join(', ')} when ${a.namespace}/${a.secret} changes`,
  async run(ctx, a) {
    const rt = ctx.runtime;
    const w = await rt.watcher(a.namespace, a.secret);
    let last = dataHash(w.latest()?.data ?? {});
    let rollouts = 0;
    const failures: string[] = [];
    let chain = Promise.resolve();
    const unsubscribe = w.subscribe((e) => {
      if (!e.exists) return;
      const h = dataHash(e.data);
      if (h === last) return;
      last = h;
      chain = chain.then(async () => {
        for (const d of a.deployments) {
          try {
            await patchPodTemplateAnnotations(rt.kube, a.namespace, d, { [RELOAD_ANNOTATION]: h });
            rollouts++;
          } catch (err) {
            failures.push(`${a.namespace}/${d}: ${errorMessage(err)}`);
          }
        }
      });
    });
    ctx.addCleanup(`stop reloading ${a.deployments.join(', ')} on ${a.namespace}/${a.secret}`, async () => {
      unsubscribe();
      await chain;
      // A rollout that could not be triggered is a failure of the scenario, not a silent skip.
      if (failures.length) throw new Error(`reloadOnChange could not roll out: ${failures.join('; ')}`);
    });
    return { facts: { deployments: a.deployments.length, rollouts } };
  },
};
