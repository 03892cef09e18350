/**
 * The lab's Vault server process (OpenBao dev mode): its ComponentSpec and its unseal key. Dev mode prints a fresh
 * unseal key at every start, a moment after sys/health already answers; the key of this start is kept in
 * `vault-unseal-key` (0600) so sealVault/unsealVault work from any process.
 */
import { readFileSync } from 'node:fs';
import { ComponentStartError } from '../../errors.ts';
import { binaryPath } from '../../components/cache.ts';
import { secrets } from '../../secrets/secret-registry.ts';
import { waitFor } from '../../time.ts';
import type { RunDir } from '../run-dir.ts';
import { VaultClient } from '../../vault/client.ts';
import { baseEnv } from './component-specs.ts';
import type { ComponentSpec } from './launch.ts';
import { vaultArgs, vaultEnv } from './vault-eso-specs.ts';
import { vaultServer, type VaultServer } from '../vault-server.ts';

export const VAULT_READY_TIMEOUT_MS = 20_000;

/** The Vault server's spec: OpenBao by default, HashiCorp Vault with `--vault-server hashicorp` (same dev flags). */
export function vaultSpec(
  run: RunDir,
  env: NodeJS.ProcessEnv,
  port: number,
  token: string,
  server: VaultServer = vaultServer(),
  /** The component name (and log file): the server's own, or a private server's (`openbao-p3`). */
  name: string = server.component,
  extraEnv: Record<string, string> = {},
): ComponentSpec {
  return {
    name,
    version: server.pin.version,
    file: binaryPath(server.pin, server.binary, env),
    args: vaultArgs(port),
    env: { ...vaultEnv(baseEnv(run), token, server.name), ...extraEnv },
    port,
    what: `${server.label} sys/health`,
    timeoutMs: VAULT_READY_TIMEOUT_MS,
    probe: async (signal) => {
      const h = await new VaultClient({ address: `http://127.0.0.1:${port}`, token: '' }).health(signal);
      return { done: h.httpStatus === 200, seen: `sys/health ${h.httpStatus}${h.sealed ? ' (sealed)' : ''}` };
    },
  };
}

export function countUnsealKeys(logFile: string): number {
  try {
    return [...readFileSync(logFile, 'utf8').matchAll(/Unseal Key:\s*\S+/g)].length;
  } catch {
    return 0;
  }
}

/** The newest "Unseal Key: <base64>" line of the Vault server's log (dev mode prints one at every start). */
export function readUnsealKey(logFile: string): string | undefined {
  try {
    const text = readFileSync(logFile, 'utf8');
    const all = [...text.matchAll(/Unseal Key:\s*(\S+)/g)];
    return all.at(-1)?.[1];
  } catch {
    return undefined;
  }
}

/**
 * Wait for the key line of this start (the `before`+1-th) in a Vault server's log and return it (registered as a
 * secret: it never reaches output). A start without its key is a failed start: it could not be unsealed after a
 * `sealVault`.
 */
export async function waitForUnsealKey(
  logFile: string,
  before: number,
  signal: AbortSignal,
  component: string,
  label: string,
): Promise<string> {
  try {
    await waitFor(
      async () =>
        countUnsealKeys(logFile) > before
          ? { done: true as const, value: undefined }
          : { done: false as const, seen: 'no unseal key line yet' },
      { what: `${label}'s unseal key in its log`, timeoutMs: 10_000, intervalMs: 25, signal },
    );
  } catch (e) {
    if (signal.aborted) throw e;
    throw new ComponentStartError(component, 'answered sys/health but printed no unseal key', { logFile });
  }
  const key = readUnsealKey(logFile);
  if (!key) throw new ComponentStartError(component, 'its unseal key line could not be read', { logFile });
  secrets.add(key);
  return key;
}

/** The lab's server: wait for this start's unseal key and keep it in `vault-unseal-key` (0600). */
export async function captureUnsealKey(
  run: RunDir,
  before: number,
  signal: AbortSignal,
  server: VaultServer = vaultServer(),
): Promise<void> {
  const key = await waitForUnsealKey(
    run.logFile(server.component),
    before,
    signal,
    server.component,
    server.label,
  );
  run.writePrivate('vault-unseal-key', key + '\n');
}
