/** `vaultKv`: put, patch or delete a KV v2 secret, recording the write in the expected model. */
import { z } from 'zod';
import { stripMount } from '../../vault/client.ts';
import { kvWrite, kvWriteCustomMetadata } from '../../vault/kv-engine.ts';
import { vaultPathSchema, type Handler } from './common.ts';
import {
  dataValueSchema,
  describeDataShape,
  resolveData,
  resolveVaultData,
  customMetadataSchema,
  vaultSecretDataSchema,
} from './values.ts';

const write = z
  .object({
    path: vaultPathSchema,
    data: z
      .record(z.string().min(1), dataValueSchema)
      .describe('Keys and values (literal or `{ random: true }`)'),
  })
  .strict();

const put = z
  .object({
    path: vaultPathSchema,
    data: vaultSecretDataSchema,
    customMetadata: customMetadataSchema,
  })
  .strict();

const schema = z
  .union([
    z.object({ put: put.describe('Create or replace the secret (new version)') }).strict(),
    z.object({ patch: write.describe('Merge keys into the current version (KV v2 PATCH)') }).strict(),
    z
      .object({
        delete: z
          .object({
            path: vaultPathSchema,
            allVersions: z
              .boolean()
              .optional()
              .describe('Delete every version and the metadata (default: soft-delete the latest version)'),
          })
          .strict(),
      })
      .strict(),
  ])
  .describe('One of `put`, `patch`, `delete`');
type Args = z.infer<typeof schema>;

export const vaultKvOperation: Handler<Args> = {
  name: 'vaultKv',
  description: 'Put, patch or delete a KV v2 secret.',
  timeoutKind: 'vault',
  schema,
  summarize(a) {
    if ('put' in a) return `vault kv put ${a.put.path} (${describeDataShape(a.put.data)})`;
    if ('patch' in a) return `vault kv patch ${a.patch.path} (${describeDataShape(a.patch.data)})`;
    return `vault kv delete ${a.delete.path}${a.delete.allVersions ? ' (all versions)' : ''}`;
  },
  async run(ctx, a) {
    const rt = ctx.runtime;
    if ('delete' in a) {
      if (a.delete.allVersions) await rt.vault.kvDestroyAll(a.delete.path, ctx.signal);
      else await rt.vault.kvDelete(a.delete.path, ctx.signal);
      rt.vaultState.recordDelete(a.delete.path, Date.now());
      return;
    }
    const mode = 'put' in a ? 'put' : 'patch';
    const w = 'put' in a ? a.put : a.patch;
    const existed = rt.vaultState.get(w.path) !== undefined;
    let data: Record<string, string>;
    let ack;
    if ('put' in a) {
      const resolved = resolveVaultData(a.put.data);
      data = resolved.model;
      const loc = {
        mount: rt.vault.kvMount,
        version: 2 as const,
        path: stripMount(a.put.path, rt.vault.kvMount),
      };
      ack = await kvWrite(rt.vault, loc, resolved.write, ctx.signal);
      if (a.put.customMetadata) await kvWriteCustomMetadata(rt.vault, loc, a.put.customMetadata, ctx.signal);
    } else {
      data = resolveData(a.patch.data);
      ack = await rt.vault.kvPatch(a.patch.path, data, ctx.signal);
    }
    rt.vaultState.recordWrite(w.path, mode, data, ack);
    if (!existed && mode === 'put')
      ctx.addCleanup(
        `vault: delete ${rt.vault.kvMount}/${stripMount(w.path, rt.vault.kvMount)} (all versions)`,
        (s) => rt.vault.kvDestroyAll(w.path, s),
      );
    return { facts: { secretVersion: ack.version } };
  },
};
