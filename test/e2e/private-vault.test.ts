/**
 * A scenario's private Vault server (a real OpenBao dev server from the component cache, no cluster): its port is
 * chosen free and then bound by OpenBao, so another process can take it in between. When that happens the start
 * is retried on another port, instead of failing the scenario; stopping it leaves no process behind.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { RunDir } from '../../src/labs/run-dir.ts';
import { startPrivateVault } from '../../src/labs/local/private-vault.ts';
import { freePort } from '../../src/labs/local/ports.ts';
import { vaultServer } from '../../src/labs/vault-server.ts';
import { VaultClient } from '../../src/vault/client.ts';
import { isolatedEnv, processesMentioning } from './helpers.ts';

const env = isolatedEnv();
const run = RunDir.create('pv-e2e', env);
const held: Server[] = [];
afterAll(async () => {
  await Promise.all(held.map((s) => new Promise((r) => s.close(r))));
  run.remove();
});

/** A loopback port something else is listening on (it hangs up on whoever connects: not a Vault). */
async function takenPort(): Promise<number> {
  const srv = createServer((socket) => socket.destroy());
  held.push(srv);
  await new Promise<void>((r) => srv.listen({ host: '127.0.0.1', port: 0 }, r));
  const a = srv.address();
  return typeof a === 'object' && a ? a.port : 0;
}

describe('private Vault server', () => {
  it('starts on another port when the one it chose was taken before OpenBao bound it', async () => {
    const taken = await takenPort();
    const offered: number[] = [];
    const pv = await startPrivateVault({
      run,
      env,
      server: vaultServer('openbao'),
      base: {
        address: 'http://127.0.0.1:1',
        token: 'unused',
        serverUrlForEso: 'http://127.0.0.1:1',
        kubernetesHostForVault: 'https://127.0.0.1:1',
        outsideCluster: true,
        kvMount: 'secret',
      },
      tag: 'p1',
      signal: AbortSignal.timeout(60_000),
      choosePort: async () => {
        const p = offered.length === 0 ? taken : await freePort();
        offered.push(p);
        return p;
      },
    });
    try {
      expect(offered.length).toBe(2);
      expect(pv.vault.address).toBe(`http://127.0.0.1:${offered[1]}`);
      expect(pv.vault.serverUrlForEso).toBe(pv.vault.address);
      const health = await new VaultClient({ address: pv.vault.address, token: '' }).health(
        AbortSignal.timeout(5000),
      );
      expect(health.httpStatus).toBe(200);
      expect(processesMentioning(run.path).length).toBeGreaterThan(0);
    } finally {
      await pv.stop();
    }
    expect(processesMentioning(run.path)).toEqual([]);
  });
});
