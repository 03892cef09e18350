/** Shared helpers for end-to-end tests on the real local lab. */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalLab, type StartedLocalLab } from '../../src/labs/local/local-lab.ts';
import type { LabEvent } from '../../src/report/events.ts';
import { VaultClient, VaultRequestError, type VaultMethod } from '../../src/vault/client.ts';

/** An isolated state dir per test file, so tests never see the user's own labs. */
export function isolatedEnv(): NodeJS.ProcessEnv {
  const state = mkdtempSync(join(tmpdir(), 'vel-e2e-state-'));
  return { ...process.env, VAULT_ESO_LAB_STATE_DIR: state, CI: 'true' };
}

export async function startLab(
  env: NodeJS.ProcessEnv,
  name = 'e2e',
): Promise<{ lab: StartedLocalLab; events: LabEvent[] }> {
  const events: LabEvent[] = [];
  const lab = await new LocalLab().start({
    signal: AbortSignal.timeout(600_000),
    emit: (e) => {
      events.push(e);
      if (e.kind === 'lab.component.building')
        process.stderr.write(`[lab] building ${e.component}: ${e.step}\n`);
    },
    env,
    name,
  });
  return { lab, events };
}

/** Pids of processes whose environment or command line mentions `needle` (e.g. a test's state dir). */
export function processesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      const env = readFileSync(`/proc/${d}/environ`, 'utf8');
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state === 'Z') continue;
      if (cmd.includes(needle) || env.includes(needle)) pids.push(Number(d));
    } catch {
      /* gone or not ours */
    }
  }
  return pids;
}

/**
 * A raw Vault call for tests, through the one Vault client: the status and JSON body, whatever the status
 * (a refused login is a 403 to look at, not a throw). No token: sent without one.
 */
export async function vaultFetch(
  addr: string,
  token: string | undefined,
  path: string,
  init: { method?: VaultMethod; body?: unknown } = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const client = new VaultClient({ address: addr, token: token ?? '' });
  const method = init.method ?? (init.body ? 'POST' : 'GET');
  try {
    const r = await client.request(method, path, init.body, { token: token ?? '' });
    return { status: r.status, json: r.body ?? {} };
  } catch (e) {
    if (!(e instanceof VaultRequestError) || e.unreachable) throw e;
    return { status: e.status, json: { errors: [...e.errors] } };
  }
}
