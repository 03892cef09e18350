/**
 * `rotate`: write fresh values for some keys of a KV v2 secret (PATCH by default) and record Vault's
 * acknowledgement time and version in the expected model. Nothing secret is emitted.
 */
import { z } from 'zod';
import { LabError } from '../../errors.ts';
import { k8sNameSchema, namespaceSchema, vaultPathSchema, type Handler } from './common.ts';
import { dataValueSchema, generateSecretValue, resolveData } from './values.ts';

const schema = z
  .object({
    path: vaultPathSchema,
    keys: z.array(z.string().min(1)).min(1).optional().describe('Keys to give fresh random values'),
    data: z
      .record(z.string().min(1), dataValueSchema)
      .optional()
      .describe('Explicit new values (literal or `{ random: true }`)'),
    mode: z
      .enum(['patch', 'put'])
      .optional()
      .describe(
        'patch (default): merge into the current version; put: write the full secret as a new version',
      ),
    secret: z
      .object({ namespace: namespaceSchema, name: k8sNameSchema.describe('Secret name') })
      .strict()
      .optional()
      .describe('Start watching this Secret before the write, so its update is timed from a running watch'),
  })
  .strict()
  .refine((a) => a.keys !== undefined || a.data !== undefined, { message: 'give `keys` or `data`' })
  .describe('Rotate values in Vault');
type Args = z.infer<typeof schema>;

export const rotateOperation: Handler<Args> = {
  name: 'rotate',
  description: 'Write fresh values to a KV v2 secret (PATCH) and record when Vault acknowledged them.',
  timeoutKind: 'vault',
  schema,
  summarize: (a) => {
    const keys = [...(a.keys ?? []), ...Object.keys(a.data ?? {})];
    return `rotate ${a.path} [${keys.join(', ')}]`;
  },
  async run(ctx, a) {
    const rt = ctx.runtime;
    if (a.secret) await rt.watcher(a.secret.namespace, a.secret.name);

    const data: Record<string, string> = {};
    for (const k of a.keys ?? []) data[k] = generateSecretValue();
    Object.assign(data, resolveData(a.data ?? {}));

    const mode = a.mode ?? 'patch';
    if (mode === 'patch') {
      const ack = await rt.vault.kvPatch(a.path, data, ctx.signal);
      rt.vaultState.recordWrite(a.path, 'patch', data, ack);
      return { facts: { secretVersion: ack.version, ackAt: new Date(ack.ackAt).toISOString() } };
    }
    const prev = rt.vaultState.get(a.path);
    const current =
      prev && !prev.deleted ? prev.data : (await rt.vault.kvGet(a.path, { signal: ctx.signal }))?.data;
    if (!current && Object.keys(data).length === 0)
      throw new LabError('E_VAULT', `rotate ${a.path}: nothing to write`);
    const ack = await rt.vault.kvPut(a.path, { ...(current ?? {}), ...data }, ctx.signal);
    if (prev && !prev.deleted) rt.vaultState.recordWrite(a.path, 'patch', data, ack);
    else rt.vaultState.recordWrite(a.path, 'put', { ...(current ?? {}), ...data }, ack);
    return { facts: { secretVersion: ack.version, ackAt: new Date(ack.ackAt).toISOString() } };
  },
};
