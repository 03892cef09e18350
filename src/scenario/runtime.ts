/**
 * What operations act on during one scenario run: the lab, Kubernetes and Vault clients, the model of what the
 * scenario wrote to Vault (the "expected" values), and one SecretWatcher per Secret, started on first use and kept
 * for the run so that no event between a rotation and its assertion is missed.
 */
import { withPrivateVault, type PrivateVault, type StartedLab } from '../labs/lab-provider.ts';
import { createKubeClients, type KubeClients } from '../kube/client.ts';
import { SecretWatcher, kubeSecretWatchDeps, type SecretWatcherDeps } from '../kube/secret-watcher.ts';
import { VaultClient, stripMount } from '../vault/client.ts';
import { secrets } from '../secrets/secret-registry.ts';
import type { TimelineEntry } from '../report/report-model.ts';
import { secretTimelineEntry, type RuntimeSource } from './orchestrator.ts';
import { ConsumerStreams } from '../kube/consumer-stream.ts';

/** One acknowledged write to a KV v2 path. */
export interface VaultWrite {
  /** Keys this write set (for a patch, only the patched keys). */
  keys: string[];
  version: number;
  /** `Date.now()` right after Vault's HTTP response. */
  ackAt: number;
}

export interface VaultPathState {
  /** The full data the path holds after the scenario's latest write (never printed). */
  data: Record<string, string>;
  version: number;
  /** Ack time of the latest write; 0 when the path was only read. */
  ackAt: number;
  deleted: boolean;
  writes: VaultWrite[];
}

/** Latest values the scenario wrote per KV path (path without the mount, e.g. `my-app/config`). */
export class VaultState {
  private readonly paths = new Map<string, VaultPathState>();
  constructor(readonly kvMount: string) {}

  key(path: string): string {
    return stripMount(path, this.kvMount).replace(/\/+$/, '');
  }

  get(path: string): VaultPathState | undefined {
    return this.paths.get(this.key(path));
  }

  entries(): [string, VaultPathState][] {
    return [...this.paths.entries()];
  }

  /** Record a write: `mode: 'put'` replaces the data, `'patch'` merges into it. */
  recordWrite(
    path: string,
    mode: 'put' | 'patch',
    data: Record<string, string>,
    ack: { version: number; ackAt: number },
  ): VaultPathState {
    for (const v of Object.values(data)) secrets.add(v);
    const k = this.key(path);
    const prev = this.paths.get(k);
    const merged = mode === 'patch' && prev && !prev.deleted ? { ...prev.data, ...data } : { ...data };
    const state: VaultPathState = {
      data: merged,
      version: ack.version,
      ackAt: ack.ackAt,
      deleted: false,
      writes: [...(prev?.writes ?? []), { keys: Object.keys(data), version: ack.version, ackAt: ack.ackAt }],
    };
    this.paths.set(k, state);
    return state;
  }

  recordDelete(path: string, ackAt: number): void {
    const k = this.key(path);
    const prev = this.paths.get(k);
    this.paths.set(k, {
      data: {},
      version: prev?.version ?? 0,
      ackAt,
      deleted: true,
      writes: prev?.writes ?? [],
    });
  }
}

/** A Kubernetes auth role a vaultSetup/vaultRole created, remembered for diagnosis. */
export interface KnownRole {
  mount: string;
  name: string;
  serviceAccount: string;
  namespace: string;
  policies: string[];
}

export interface ScenarioRuntime {
  readonly lab: StartedLab;
  readonly kube: KubeClients;
  readonly vault: VaultClient;
  readonly vaultState: VaultState;
  readonly roles: KnownRole[];
  /** Started (or reused) watcher for one Secret; resolves once its initial list is done. */
  watcher(namespace: string, name: string): Promise<SecretWatcher>;
  /** Watchers started so far, keyed `namespace/name`. */
  readonly watchers: ReadonlyMap<string, SecretWatcher>;
  /** Streams of what consuming pods read (the consumer image's reports), followed through the log API. */
  readonly consumers: ConsumerStreams;
  /** Stop every watcher. */
  close(): Promise<void>;
}

export interface RuntimeOverrides {
  kube?: KubeClients;
  vault?: VaultClient;
  watchDeps?: Pick<SecretWatcherDeps, 'list' | 'watch'>;
}

export function createRuntime(
  lab: StartedLab,
  signal: AbortSignal,
  overrides: RuntimeOverrides = {},
): ScenarioRuntime {
  const conn = lab.connection;
  const kube = overrides.kube ?? createKubeClients(conn.kubeconfigPath, conn.context);
  const vault =
    overrides.vault ??
    new VaultClient({ address: conn.vault.address, token: conn.vault.token, kvMount: conn.vault.kvMount });
  secrets.add(conn.vault.token);
  const watchDeps = overrides.watchDeps ?? kubeSecretWatchDeps(kube);
  const watchers = new Map<string, SecretWatcher>();
  const starting = new Map<string, Promise<SecretWatcher>>();
  let consumers: ConsumerStreams | undefined;
  const runtime: ScenarioRuntime = {
    lab,
    kube,
    vault,
    vaultState: new VaultState(conn.vault.kvMount),
    roles: [],
    watchers,
    get consumers() {
      return (consumers ??= new ConsumerStreams(kube));
    },
    watcher(namespace, name) {
      const key = `${namespace}/${name}`;
      let p = starting.get(key);
      if (!p) {
        const w = new SecretWatcher(namespace, name, watchDeps, signal);
        p = w.start().then(() => {
          watchers.set(key, w);
          return w;
        });
        // A failed start is not cached: the next caller retries.
        p.catch(() => starting.delete(key));
        starting.set(key, p);
      }
      return p;
    },
    async close() {
      consumers?.close();
      await Promise.allSettled([...watchers.values()].map((w) => w.stop()));
      watchers.clear();
      starting.clear();
    },
  };
  return runtime;
}

/** Runtimes for the orchestrator: one per scenario, closed after it; its Secret watch events and Vault writes
 * go to the scenario's timeline (key names and short hashes only). */
export function runtimeSource(lab: StartedLab, signal: AbortSignal): RuntimeSource<ScenarioRuntime> {
  // The private Vault server each runtime runs on (stopped when the runtime closes).
  const privates = new WeakMap<ScenarioRuntime, PrivateVault>();
  return {
    async open(_scenario, o = {}) {
      if (!o.privateVault || !lab.privateVault) return createRuntime(lab, signal);
      const pv = await lab.privateVault(o.privateVault, signal);
      try {
        const runtime = createRuntime(withPrivateVault(lab, pv), signal);
        privates.set(runtime, pv);
        return runtime;
      } catch (e) {
        await pv.stop();
        throw e;
      }
    },
    async close(runtime) {
      try {
        await runtime.close();
      } finally {
        await privates.get(runtime)?.stop();
      }
    },
    builtins: (runtime): Record<string, string> =>
      privates.has(runtime)
        ? {
            vaultServer: runtime.lab.connection.vault.serverUrlForEso,
            vaultAddr: runtime.lab.connection.vault.address,
          }
        : {},
    privateVaultName: (runtime) => privates.get(runtime)?.name,
    timeline: runtimeTimeline,
  };
}

export function runtimeTimeline(runtime: ScenarioRuntime): TimelineEntry[] {
  const entries: TimelineEntry[] = [];
  for (const w of runtime.watchers.values())
    for (const e of w.history) entries.push(secretTimelineEntry(w.namespace, w.name, e));
  for (const [path, state] of runtime.vaultState.entries())
    for (const w of state.writes)
      entries.push({
        at: new Date(w.ackAt).toISOString(),
        kind: 'vault.write',
        label: `Vault ${runtime.vaultState.kvMount}/${path} v${w.version} (${w.keys.join(',')})`,
        facts: { path, version: w.version, keys: w.keys.join(',') },
      });
  return entries;
}
