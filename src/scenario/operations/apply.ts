/** `apply` / `delete`: server-side apply (field manager `vault-eso-lab`) or delete of manifests. */
import { readFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { z } from 'zod';
import { LabError, errorMessage } from '../../errors.ts';
import {
  applyObjects,
  collectObjects,
  deleteObject,
  describeObject,
  parseManifests,
  waitGone,
} from '../../kube/apply.ts';
import { imagesOf, missingImages } from '../../kube/pod-images.ts';
import type { OperationContext } from '../operation.ts';
import type { ScenarioRuntime } from '../runtime.ts';
import type { Handler } from './common.ts';
import { fileTemplateValues, templateObjects } from './file-template.ts';
import { mark } from './marks.ts';

const schema = z
  .object({
    file: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Multi-document YAML file, relative to the scenario file; its strings are templated (${vars.X}, ${vaultServer}, ...)',
      ),
    manifest: z.unknown().optional().describe('Inline Kubernetes object, `List`, or list of objects'),
  })
  .strict()
  .refine((a) => (a.file === undefined) !== (a.manifest === undefined), {
    message: 'give exactly one of `file` or `manifest`',
  })
  .describe('Manifests from a file or inline');
type Args = z.infer<typeof schema>;

async function loadObjects(ctx: OperationContext<ScenarioRuntime>, a: Args): Promise<KubernetesObject[]> {
  const values = fileTemplateValues(ctx.vars, ctx.runtime.lab.connection);
  if (a.file !== undefined) {
    const path = isAbsolute(a.file) ? a.file : resolve(ctx.baseDir, a.file);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      throw new LabError('E_MANIFEST', `cannot read manifest ${a.file}: ${errorMessage(e)}`, { cause: e });
    }
    const shown = relative(process.cwd(), path) || path;
    try {
      return templateObjects(parseManifests(text, shown), values);
    } catch (e) {
      if (e instanceof LabError) throw e;
      throw new LabError('E_MANIFEST', `${shown}: ${errorMessage(e)}`, { cause: e });
    }
  }
  return templateObjects(collectObjects(a.manifest, [], 'inline manifest'), values);
}

/** On a lab with a node, every image the manifests run must be on the node already: nothing is pulled. */
async function checkNodeImages(
  ctx: OperationContext<ScenarioRuntime>,
  objects: KubernetesObject[],
): Promise<void> {
  const lab = ctx.runtime.lab;
  const node = lab.connection.node;
  if (!node || imagesOf(objects).length === 0) return;
  const have = (await lab.listNodeImages?.(ctx.signal)) ?? node.images;
  const missing = missingImages(objects, have);
  if (missing.length === 0) return;
  throw new LabError(
    'E_IMAGE_MISSING',
    `the lab's node does not have ${missing.map((m) => `${m.image} (${m.object})`).join(', ')}; nothing is pulled here. ` +
      `To provide it, save it as an image archive (docker save, or any OCI tool) and import it into the node: ` +
      `eval "$(vault-eso-lab env)"; ctr images import IMAGE.tar. The node has: ${have.join(', ') || 'no images'}`,
    { exitCode: 1 },
  );
}

function summarize(verb: string, a: Args): string {
  if (a.file !== undefined) return `${verb} ${a.file}`;
  const n = Array.isArray(a.manifest) ? a.manifest.length : 1;
  return `${verb} inline manifest (${n} object${n === 1 ? '' : 's'})`;
}

/** Cleanup for one applied object: delete, and for namespaces wait until gone so a rerun can recreate them. */
function cleanupFor(ctx: OperationContext<ScenarioRuntime>, o: KubernetesObject): void {
  ctx.addCleanup(`delete ${describeObject(o)}`, async (signal) => {
    const r = await deleteObject(ctx.runtime.kube, o);
    if (r === 'deleted' && o.kind === 'Namespace') await waitGone(ctx.runtime.kube, o, signal, 120_000);
  });
}

export const applyOperation: Handler<Args> = {
  name: 'apply',
  description: 'Server-side apply Kubernetes manifests (file or inline); deleted again at cleanup.',
  timeoutKind: 'apply',
  schema,
  summarize: (a) => summarize('apply', a),
  async run(ctx, a) {
    const objects = await loadObjects(ctx, a);
    await checkNodeImages(ctx, objects);
    await applyObjects(ctx.runtime.kube, objects, ctx.signal, (o) => cleanupFor(ctx, o));
    mark(ctx.runtime, 'apply');
    return { facts: { objects: objects.length } };
  },
};

export const deleteOperation: Handler<Args> = {
  name: 'delete',
  description: 'Delete Kubernetes objects (file or inline), in reverse order, and wait until they are gone.',
  timeoutKind: 'apply',
  schema,
  summarize: (a) => summarize('delete', a),
  async run(ctx, a) {
    const objects = await loadObjects(ctx, a);
    let deleted = 0;
    for (const o of [...objects].reverse()) {
      if ((await deleteObject(ctx.runtime.kube, o)) === 'deleted') deleted++;
      await waitGone(ctx.runtime.kube, o, ctx.signal, ctx.timeoutMs);
    }
    return { facts: { deleted } };
  },
};
