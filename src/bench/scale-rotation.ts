/**
 * One rotation of `bench scale`: every one of the N Vault paths written at once, observed by harnesses each in a
 * process of its own (observer-child.ts) — a watch on the namespace, and optionally a Chainsaw/KUTTL-style poller —
 * with the lab's CPU, the machine's and Vault's request count taken around it.
 */
import { randomBytes } from 'node:crypto';
import { LabError } from '../errors.ts';
import type { KubeClients } from '../kube/client.ts';
import { apiEndpoint, type ApiEndpoint } from '../kube/watch-stream.ts';
import type { StartedLocalLab } from '../labs/local/local-lab.ts';
import { runCommand } from '../process/command.ts';
import { secrets } from '../secrets/secret-registry.ts';
import type { VaultClient } from '../vault/client.ts';
import { childCommand } from './child-command.ts';
import { cpuSeconds, machineCpuSeconds, selfCpuSeconds } from './proc.ts';

export interface ObserverResult {
  changedAt: Record<string, number>;
  cpuSeconds: number;
  rssBytes: number;
  requests: number;
  /** Watch events received (0 for the poller). */
  events: number;
  /** Socket reads that woke the watch (watch-socket.ts's count; 0 for the poller). */
  wakes: number;
  /** CPU seconds of the main thread and of the others (V8's workers, libuv's pool), over the same span. */
  cpuByThread: Record<string, number>;
  /** Garbage collections over the same span, by kind (count, milliseconds). */
  gc: Record<string, { count: number; ms: number }>;
}

/** At most `limit` promises at a time. */
export async function pool<T>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
}

async function vaultRequestCount(lab: StartedLocalLab, signal: AbortSignal): Promise<number> {
  const r = await fetch(`${lab.connection.vault.address}/v1/sys/metrics?format=prometheus`, {
    headers: { 'x-vault-token': lab.connection.vault.token },
    signal,
  });
  const m = /^vault_core_handle_request_count (\d+)/m.exec(await r.text());
  return m ? Number(m[1]) : NaN;
}

function startObserver(
  mode: 'watch' | 'poll',
  endpoint: ApiEndpoint,
  namespace: string,
  count: number,
  settleMs: number,
  resolutionMs: number,
  signal: AbortSignal,
): { ready: Promise<void>; result: Promise<ObserverResult> } {
  const { file, pre } = childCommand('observer-child');
  let onReady: () => void = () => {};
  let lastLine = '';
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const result = runCommand(
    process.execPath,
    [
      ...pre,
      file,
      '--mode',
      mode,
      '--namespace',
      namespace,
      '--count',
      String(count),
      '--settle-ms',
      String(settleMs),
      '--resolution-ms',
      String(resolutionMs),
    ],
    {
      signal,
      input: `${JSON.stringify(endpoint)}\n`,
      reject: false,
      timeoutMs: 15 * 60_000,
      onLine: (line, stream) => {
        if (stream !== 'stdout') return;
        if (line.includes('"ready"')) onReady();
        else lastLine = line;
      },
    },
  ).then((r) => {
    onReady();
    if (r.exitCode !== 0 || !lastLine)
      throw new LabError('E_BENCH', `bench scale: the ${mode} harness exited ${r.exitCode}`, {
        hint: r.stderr.slice(-1500),
      });
    return JSON.parse(lastLine) as ObserverResult;
  });
  return { ready, result };
}

export interface Rotation {
  /** Each observer's view, by mode. */
  seen: { watch: ObserverResult; poll?: ObserverResult };
  ackAt: Record<string, number>;
  startedAt: number;
  endedAt: number;
  rotateMs: number;
  labCpu: Record<string, number>;
  machine0: ReturnType<typeof machineCpuSeconds>;
  machine1: ReturnType<typeof machineCpuSeconds>;
  vaultRequests: number;
  selfCpu: number;
}

/** Rotate all N paths at once with the given harnesses observing, and take the lab's figures around it. */
export async function rotateAll(
  lab: StartedLocalLab,
  kube: KubeClients,
  vault: VaultClient,
  setup: { names: string[]; namespace: string; tag: string },
  withPoller: boolean,
  labPids: (readonly [string, number])[],
  settleMs: number,
  resolutionMs: number,
  signal: AbortSignal,
): Promise<Rotation> {
  const n = setup.names.length;
  const endpoint = await apiEndpoint(kube.kc);
  const watch = startObserver('watch', endpoint, setup.namespace, n, settleMs, resolutionMs, signal);
  const poll = withPoller
    ? startObserver('poll', endpoint, setup.namespace, n, settleMs, 0, signal)
    : undefined;
  await Promise.all([watch.ready, poll?.ready]);
  const labCpu0 = labPids.map(([, pid]) => cpuSeconds(pid));
  const machine0 = machineCpuSeconds();
  const vault0 = await vaultRequestCount(lab, signal);
  const self0 = selfCpuSeconds();
  const startedAt = Date.now();
  const ackAt: Record<string, number> = {};
  await pool(setup.names, 32, async (name) => {
    const value = randomBytes(12).toString('hex');
    secrets.add(value);
    const w = await vault.kvPut(`bench/${setup.tag}/${name}`, { password: value }, signal);
    ackAt[name] = w.ackAt;
  });
  const rotateMs = Date.now() - startedAt;
  const [w, p] = await Promise.all([watch.result, poll?.result]);
  const endedAt = Date.now();
  const machine1 = machineCpuSeconds();
  const labCpu: Record<string, number> = Object.fromEntries(
    labPids.map(([name, pid], i) => [name, cpuSeconds(pid) - labCpu0[i]!]),
  );
  return {
    seen: { watch: w, ...(p ? { poll: p } : {}) },
    ackAt,
    startedAt,
    endedAt,
    rotateMs,
    labCpu,
    machine0,
    machine1,
    vaultRequests: (await vaultRequestCount(lab, signal)) - vault0 - 1, // minus the first scrape
    selfCpu: selfCpuSeconds() - self0,
  };
}
