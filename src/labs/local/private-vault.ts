/**
 * A scenario's own Vault dev server beside the lab's (OpenBao starts in ≈0.2 s). A scenario that seals or stops
 * Vault does it to this server, so it disturbs no other scenario and can run beside them in a parallel run.
 *
 * It is owned by the process that starts it, not recorded in lab.json (the lab's components stay the lab's):
 * its environment carries the lab's run marker (so `down` stops it like everything else of the lab) and
 * `PRIVATE_VAULT_OWNER=<pid>:<name>`, so a later command stops one whose owner was killed (`reapOrphanedPrivateVaults`).
 * Random root token, 127.0.0.1 only, log 0600 in the run directory (removed when it stops).
 */
import { rmSync } from 'node:fs';
import { LabError, errorMessage } from '../../errors.ts';
import { environOf, isAlive, processesMarked, stopProcessGroup } from '../../process/command.ts';
import { secrets } from '../../secrets/secret-registry.ts';
import { VaultClient } from '../../vault/client.ts';
import type { LabConnection, PrivateVault } from '../lab-provider.ts';
import type { RunDir } from '../run-dir.ts';
import { sealFaults } from '../vault-seal.ts';
import type { VaultServer } from '../vault-server.ts';
import { launch } from './launch.ts';
import { countUnsealKeys, vaultSpec, waitForUnsealKey } from './openbao.ts';
import { randomToken } from './pki.ts';
import { freePort } from './ports.ts';

export const PRIVATE_VAULT_OWNER = 'VAULT_ESO_LAB_PRIVATE_VAULT_OWNER';
const PORT_ATTEMPTS = 3;
const PORT_TAKEN = /address already in use/i;

/** Private Vault servers of this run directory, with the `<pid>:<name>` that owns each. */
function privateVaultProcesses(runDir: string): { pid: number; owner: number; name: string }[] {
  return processesMarked(runDir).flatMap((pid) => {
    const mark = environOf(pid)?.[PRIVATE_VAULT_OWNER];
    const m = mark ? /^(\d+):(.+)$/.exec(mark) : null;
    return m ? [{ pid, owner: Number(m[1]), name: m[2]! }] : [];
  });
}

/** Stop the private Vault servers whose owning process is gone (a scenario run that was SIGKILLed). */
export async function reapOrphanedPrivateVaults(run: RunDir): Promise<string[]> {
  const orphans = privateVaultProcesses(run.path).filter((p) => !isAlive(p.owner));
  await Promise.all(orphans.map((p) => stopProcessGroup(p.pid, 3000)));
  // Their logs hold a root token's and an unseal key's lines (0600): gone with them.
  for (const p of orphans) rmSync(run.logFile(p.name), { force: true });
  return orphans.map((p) => `${p.name} (pid ${p.pid}, its run ${p.owner} is gone)`);
}

export interface PrivateVaultOptions {
  run: RunDir;
  env: NodeJS.ProcessEnv;
  server: VaultServer;
  /** The lab's Vault connection: Kubernetes host and CA, KV mount; address and token are replaced. */
  base: LabConnection['vault'];
  /** Per-scenario tag (`p3`): the server's name is `<component>-<tag>`. */
  tag: string;
  signal: AbortSignal;
  /** Where its port comes from (default: a free loopback port); tests offer a taken one. */
  choosePort?: () => Promise<number>;
}

export async function startPrivateVault(o: PrivateVaultOptions): Promise<PrivateVault> {
  await reapOrphanedPrivateVaults(o.run);
  const name = `${o.server.component}-${o.tag}`;
  const mark = `${process.pid}:${name}`;
  const token = randomToken();
  secrets.add(token);
  const logFile = o.run.logFile(name);
  // The port is chosen free, then released for OpenBao to bind: in between, another process can take it.
  const choosePort = o.choosePort ?? freePort;
  const specOn = (port: number) =>
    vaultSpec(o.run, o.env, port, token, o.server, name, { [PRIVATE_VAULT_OWNER]: mark });
  let spec = specOn(await choosePort());
  let unsealKey: string | undefined;

  // Every process with this server's mark: also one whose start failed half-way (launch() threw).
  const mine = () => privateVaultProcesses(o.run.path).filter((p) => `${p.owner}:${p.name}` === mark);
  const kill = async (): Promise<void> => {
    await Promise.all(mine().map((p) => stopProcessGroup(p.pid, 3000)));
  };
  const start = async (signal: AbortSignal): Promise<void> => {
    if (mine().length)
      throw new LabError('E_VAULT', `${name} is already running: stopVault it before startVault`);
    const before = countUnsealKeys(logFile);
    try {
      await launch(o.run, undefined, spec, signal, () => {});
      unsealKey = await waitForUnsealKey(logFile, before, signal, name, `${o.server.label} (${name})`);
    } catch (e) {
      await kill();
      throw e;
    }
  };
  // Lost that race: another port (a restart, startVault, keeps its port: the SecretStore points there).
  for (let attempt = 1; ; attempt++) {
    try {
      await start(o.signal);
      break;
    } catch (e) {
      if (attempt >= PORT_ATTEMPTS || !PORT_TAKEN.test(errorMessage(e))) throw e;
      spec = specOn(await choosePort());
    }
  }
  const address = `http://127.0.0.1:${spec.port}`;

  const client = new VaultClient({ address, token, kvMount: o.base.kvMount });
  let stopped = false;
  return {
    name,
    vault: { ...o.base, address, token, serverUrlForEso: address },
    faults: {
      ...sealFaults(client, () => unsealKey),
      stopVault: kill,
      startVault: (signal) => start(signal),
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await kill();
      rmSync(logFile, { force: true });
    },
  };
}
