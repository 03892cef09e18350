/** `forceSync`: annotate an ExternalSecret `force-sync=<epoch ms>`; any annotation change makes ESO reconcile. */
import { z } from 'zod';
import { annotateForceSync } from '../../kube/external-secrets.ts';
import { k8sNameSchema, namespaceSchema, type Handler } from './common.ts';
import { mark } from './marks.ts';

const schema = z
  .object({ namespace: namespaceSchema, name: k8sNameSchema.describe('ExternalSecret name') })
  .strict()
  .describe('The ExternalSecret to force-sync');
type Args = z.infer<typeof schema>;

export const forceSyncOperation: Handler<Args> = {
  name: 'forceSync',
  description: 'Annotate an ExternalSecret with force-sync=<now> so ESO syncs it immediately.',
  timeoutKind: 'apply',
  schema,
  summarize: (a) => `force-sync ExternalSecret ${a.namespace}/${a.name}`,
  async run(ctx, a) {
    const value = await annotateForceSync(ctx.runtime.kube, a.namespace, a.name);
    mark(ctx.runtime, 'forceSync');
    return { facts: { forceSync: value } };
  },
};
