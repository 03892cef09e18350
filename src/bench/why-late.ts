/**
 * Why rotations came late in `bench scale`: ESO's syncs per second against what the window needs, set against the
 * machine's busy share and ESO's own API client limit, worded as no more certain than the figures allow.
 */
import { ESO_WORKERS } from '../labs/local/vault-eso-specs.ts';
import { round } from './stats.ts';

/** Where the machine's CPU went while the rotation was observed. */
export interface MachineLoad {
  cores: number;
  /** Share of all cores' time that was busy, 0–1 (from /proc/stat). */
  busyShare: number;
  /** CPU seconds per process over the same period: the lab's components, the two harnesses, this bench. */
  cpuSecondsByProcess: Record<string, number>;
}

export interface LateFigures {
  /** The ExternalSecrets' refreshInterval, seconds. */
  refreshIntervalS: number;
  n: number;
  synced: number;
  overS: number;
  within: number;
  seen: number;
  machine?: MachineLoad;
  /** Flags added to ESO's (`--eso-args`): its client rate limit and workers come from them or ESO's defaults. */
  esoArgs?: readonly string[];
}

/** ESO's own API client limit (`--client-qps`; ESO's default 50) and its workers (`--concurrent`; the lab's 4). */
export function esoLimits(args: readonly string[] = []): {
  clientQps: number;
  workers: number;
  tokenCache: boolean;
} {
  const flag = (name: string) => {
    const a = [...args].reverse().find((x) => x.startsWith(`--${name}=`));
    return a === undefined ? undefined : Number(a.slice(name.length + 3));
  };
  return {
    clientQps: flag('client-qps') ?? ESO_DEFAULT_CLIENT_QPS,
    workers: flag('concurrent') ?? ESO_WORKERS,
    tokenCache: args.includes('--experimental-enable-vault-token-cache'),
  };
}

/** ESO v0.20's default `--client-qps` (its burst: 100). */
export const ESO_DEFAULT_CLIENT_QPS = 50;

/** Busy share from which the machine counts as saturated. */
export const CPU_BOUND_SHARE = 0.9;
/** Busy share from which the CPU is not ruled out: between this and CPU_BOUND_SHARE the text says it cannot tell. */
export const NEAR_CPU_BOUND_SHARE = 0.8;

/**
 * Why rotations came late, from the run's own figures: every ExternalSecret due once per refresh interval needs
 * N / interval syncs per second; ESO's log says how many it did. Below that rate ESO falls behind (its queue),
 * not the harness. Whether the machine itself was the bound comes from /proc/stat: saturated cores say so, with
 * the processes that used them; near saturation (80–90% busy) it says CPU may be part of it and that it cannot
 * tell; with idle CPU left the bound is in ESO's own pipeline, which these figures cannot split further, and the
 * text says so. At or above the rate, the figures do not explain it.
 */
export function whyLate(f: LateFigures): string {
  const needed = f.n / f.refreshIntervalS;
  const rate = f.synced / Math.max(f.overS, 0.001);
  const missed = f.n - f.seen;
  const late = `${f.seen - f.within} of ${f.n} came after the window${missed ? ` and ${missed} not before the observation ended` : ''}`;
  if (rate >= needed * 0.9)
    return `${late}; ESO synced ${round(rate, 1)}/s against ${round(needed, 1)}/s needed, so its throughput alone does not explain it (see latencyMs.sortedMs)`;
  const limits = esoLimits(f.esoArgs);
  const behind = `${late}: ESO synced ${round(rate, 1)} ExternalSecrets/s (${f.synced} in ${round(f.overS, 1)} s, --concurrent=${limits.workers}), below the ${round(needed, 1)}/s that ${f.n} ExternalSecrets every ${f.refreshIntervalS} s need, so its queue falls behind`;
  // Each sync makes about two API requests (a ServiceAccount token for the Vault login, the Secret's write):
  // a rate at half the client limit is that limit. Measured here: 25.0/s at ESO's default 50, 34/s at 500.
  const atClientLimit = Math.abs(rate - limits.clientQps / 2) <= 0.1 * (limits.clientQps / 2);
  const clientLimit = atClientLimit
    ? `; that is half of ESO's own API client limit (--client-qps=${limits.clientQps}${f.esoArgs?.some((a) => a.startsWith('--client-qps=')) ? '' : ", ESO's default"}), at about two API requests per sync, so the limit is most likely that client rate limit (bench scale --eso-args='--client-qps=500 --client-burst=1000' lifts it)`
    : '';
  const m = f.machine;
  if (!m || !Number.isFinite(m.busyShare))
    return `${behind}${clientLimit}; the machine's CPU load was not measured`;
  const top = Object.entries(m.cpuSecondsByProcess)
    .filter(([, v]) => Number.isFinite(v))
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([k, v]) => `${k} ${round(v, 1)} s`)
    .join(', ');
  const busy = `${Math.round(m.busyShare * 100)}%`;
  if (m.busyShare >= CPU_BOUND_SHARE)
    return `${behind}. The machine's ${m.cores} cores were ${busy} busy over the run (${top}): the machine is CPU-bound (the lab and everything else on it), and ESO waits for the API server and Vault rather than computing${limits.tokenCache ? '' : " (ESO's Vault token cache, --experimental-enable-vault-token-cache, saves the login, token lookup and revocation of every sync)"}`;
  if (clientLimit)
    return `${behind}${clientLimit}. The machine's ${m.cores} cores were only ${busy} busy (${top})`;
  const pipeline = `ESO's own pipeline (its ${limits.workers} workers, each sync requests a ServiceAccount token, logs in to Vault with it, reads and updates the Secret)`;
  if (m.busyShare >= NEAR_CPU_BOUND_SHARE)
    return `${behind}. The machine's ${m.cores} cores were ${busy} busy (${top}): near saturation, so CPU may be part of the bound as well as ${pipeline}; these figures cannot say which step`;
  return `${behind}. The machine's ${m.cores} cores were only ${busy} busy (${top}), so the bound is not CPU: it is in ${pipeline}; these figures cannot say which step`;
}
