/**
 * KV engines of either version at any mount, against a real OpenBao dev server (the lab's own binary from the
 * component cache; skipped, with the reason, when it is not built yet).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binaryPath } from '../../../src/components/cache.ts';
import { components } from '../../../src/components/versions.ts';
import { freePort } from '../../../src/labs/local/ports.ts';
import { startDaemon, type Daemon } from '../../../src/process/command.ts';
import { waitFor } from '../../../src/time.ts';
import { VaultClient } from '../../../src/vault/client.ts';
import {
  disableMount,
  enableKvMount,
  kvApiPath,
  kvDestroy,
  kvRead,
  kvWrite,
  kvWriteCustomMetadata,
  readMount,
} from '../../../src/vault/kv-engine.ts';

const bao = binaryPath(components.openbao, 'bao');
const built = existsSync(bao);
let daemon: Daemon | undefined;
let vault: VaultClient;

beforeAll(async () => {
  if (!built) return;
  const port = await freePort();
  const token = randomBytes(12).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'vel-kv-'));
  daemon = startDaemon({
    name: 'openbao',
    file: bao,
    args: ['server', '-dev', `-dev-listen-address=127.0.0.1:${port}`],
    logFile: join(dir, 'bao.log'),
    env: { BAO_DEV_ROOT_TOKEN_ID: token, HOME: dir, PATH: '/usr/bin:/bin' },
  });
  vault = new VaultClient({ address: `http://127.0.0.1:${port}`, token });
  await waitFor(
    async () => {
      const h = await vault.health();
      return h.initialized && !h.sealed ? { done: true, value: h } : { done: false, seen: 'sealed' };
    },
    { what: 'OpenBao dev server to answer', timeoutMs: 30_000, intervalMs: 100 },
  );
}, 40_000);

afterAll(async () => {
  await daemon?.stop();
});

describe.skipIf(!built)(
  `KV engines on a real OpenBao (${built ? bao : 'not built: run `vault-eso-lab build openbao`'})`,
  () => {
    it('the API path of each version', () => {
      expect(kvApiPath({ mount: 'kv1', version: 1, path: 'my-app/config' })).toBe('kv1/my-app/config');
      expect(kvApiPath({ mount: 'secret', version: 2, path: 'my-app/config' })).toBe(
        'secret/data/my-app/config',
      );
      expect(kvApiPath({ mount: 'secret', version: 2, path: 'a' }, 'metadata')).toBe('secret/metadata/a');
    });

    it("reads a mount's real engine version from sys/mounts", async () => {
      expect(await readMount(vault, 'secret')).toEqual({ path: 'secret', type: 'kv', kvVersion: 2 });
      expect(await readMount(vault, 'nothing-here')).toBeUndefined();
    });

    it('KV v1 at its own mount: write, read JSON values, destroy, disable', async () => {
      expect(await enableKvMount(vault, 'kv1-test', 1)).toBe('enabled');
      expect(await enableKvMount(vault, 'kv1-test', 1)).toBe('existing');
      await expect(enableKvMount(vault, 'kv1-test', 2)).rejects.toThrow(/already holds kv version 1/);
      expect(await readMount(vault, 'kv1-test')).toEqual({ path: 'kv1-test', type: 'kv', kvVersion: 1 });
      const loc = { mount: 'kv1-test', version: 1 as const, path: 'my-app/config' };
      const ack = await kvWrite(vault, loc, { username: 'u', db: { host: 'db.internal', port: 5432 } });
      expect(ack.version).toBe(0);
      expect(await kvRead(vault, loc)).toEqual({
        data: { username: 'u', db: { host: 'db.internal', port: 5432 } },
      });
      expect(await kvRead(vault, { ...loc, path: 'my-app/nope' })).toBeUndefined();
      await expect(kvWriteCustomMetadata(vault, loc, { team: 'a' })).rejects.toThrow(/needs KV version 2/);
      await kvDestroy(vault, loc);
      expect(await kvRead(vault, loc)).toBeUndefined();
      await disableMount(vault, 'kv1-test');
      expect(await readMount(vault, 'kv1-test')).toBeUndefined();
    });

    it('KV v2: JSON values, custom_metadata, the secret version', async () => {
      const loc = { mount: 'secret', version: 2 as const, path: 'kv-engine-test/app' };
      const first = await kvWrite(vault, loc, { db: { host: 'h' } });
      const second = await kvWrite(vault, loc, { db: { host: 'h2' }, tags: ['a', 'b'] });
      expect(second.version).toBe(first.version + 1);
      await kvWriteCustomMetadata(vault, loc, { team: 'payments' });
      expect(await kvRead(vault, loc)).toEqual({
        data: { db: { host: 'h2' }, tags: ['a', 'b'] },
        secretVersion: second.version,
        customMetadata: { team: 'payments' },
      });
      await kvDestroy(vault, loc);
      expect(await kvRead(vault, loc)).toBeUndefined();
    });
  },
);
